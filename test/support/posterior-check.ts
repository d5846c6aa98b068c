import { HybridModel, LinearModel } from '@slotwise/bandit';
import { Client } from 'pg';
import { unpackStats } from '../../apps/api/src/modules/rank/stats-codec';

interface StoredRow {
  model_type: string;
  config: unknown;
  layout: unknown;
  values: Buffer;
}

/** The stored statistics of a variant (shared row + item rows, decoded with the stats codec), or null. */
export async function storedStats(
  c: Client,
  experimentId: string,
  variant: string,
): Promise<Record<string, unknown> | null> {
  const rows = (
    await c.query<StoredRow>(
      `SELECT model_type, config, stats_layout AS layout, stats_values AS "values" FROM model_state WHERE experiment_id = $1 AND variant_key = $2`,
      [experimentId, variant],
    )
  ).rows;
  if (!rows.length) return null;
  const stats = unpackStats(rows[0]) as Record<string, unknown>;
  const items = (
    await c.query<StoredRow & { item_id: string }>(
      `SELECT item_id, stats_layout AS layout, stats_values AS "values" FROM model_item_state WHERE experiment_id = $1 AND variant_key = $2`,
      [experimentId, variant],
    )
  ).rows;
  if (items.length || 'items' in stats) stats.items = Object.fromEntries(items.map((r) => [r.item_id, unpackStats(r)]));
  return stats;
}

/**
 * The posterior statistics recomputed from the decision log: every shown slot of the variant observed once, with
 * its slot's final reward total (default reward accounting: observe 0, then correct to the total). With integer
 * features and rewards every sum is exact, so this equals the stored statistics bit for bit unless an observation
 * or a reward was lost or counted twice.
 */
export async function recomputedStats(
  c: Client,
  experimentId: string,
  variant: string,
  model: HybridModel | LinearModel,
): Promise<{ stats: unknown; slots: number }> {
  const rows = (
    await c.query<{ context: number[]; features: number[]; item_id: string; reward: number; position: number }>(
      `SELECT d.context, d.shortlist->'features'->s.shortlist_index AS features, s.item_id, s.reward, s.position
       FROM decisions d JOIN decision_slots s ON s.decision_id = d.id
       WHERE d.experiment_id = $1 AND d.variant_key = $2 ORDER BY d.seq, s.position`,
      [experimentId, variant],
    )
  ).rows;
  // the slot's 0-based index: the linear model's position model keeps per-slot sums
  for (const r of rows) model.observe(r.context, { id: r.item_id, features: r.features }, r.reward, r.position - 1);
  return { stats: JSON.parse(JSON.stringify(model.snapshot().stats)), slots: rows.length };
}

/** Slots whose reward total differs from the sum of their stored rewards (each reward row counted once). */
export async function slotRewardMismatches(c: Client, experimentId: string): Promise<number> {
  const [{ n }] = (
    await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM decision_slots s
       LEFT JOIN (SELECT decision_id, item_id, sum(value) AS total, count(*) AS k FROM rewards GROUP BY 1, 2) r ON r.decision_id = s.decision_id AND r.item_id = s.item_id
       WHERE s.experiment_id = $1 AND (s.reward <> COALESCE(r.total, 0) OR s.reward_count <> COALESCE(r.k, 0))`,
      [experimentId],
    )
  ).rows;
  return Number(n);
}
