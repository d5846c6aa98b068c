import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface ExplorationFigures {
  decisions: number;
  slots: number;
  exploredSlots: number;
  coldSlots: number;
  exploreRate: number | null;
  coldStartRate: number | null;
}

export interface ColdStartFigures {
  /** items shortlisted in the window that are still below the threshold */
  coldItems: number;
  /** of those, how many were shown at least once */
  coldItemsShown: number;
  /** items that reached the threshold */
  graduatedItems: number;
  /** median number of the experiment's decisions between an item's first impression and its graduation */
  medianDecisionsToGraduate: number | null;
}

/** An item's shown slots in the window, aggregated in SQL. */
export interface ItemCounts {
  itemId: string;
  /** shown slots in the window */
  impressions: number;
  /** Σ of the slots' reward totals */
  rewards: number;
  /** Σ of the squared slot reward totals (for the sample variance) */
  rewardSquares: number;
  /** every slot reward total of the item is 0 or 1 */
  binary: boolean;
  /** shown slots over the experiment's whole log (what cold start counts) */
  lifetimeImpressions: number;
}

export interface ColdItem {
  itemId: string;
  impressions: number;
  remaining: number;
}

const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/** Exploration and cold-start figures, aggregated in SQL from the decision log. */
@Injectable()
export class ExplorationRepository {
  constructor(private readonly db: DataSource) {}

  async byVariant(
    experimentId: string,
    from: Date | null,
    to: Date | null,
  ): Promise<Array<ExplorationFigures & { variant: string }>> {
    const rows: Array<{ variant: string; decisions: string; slots: string; explored: string; cold: string }> =
      await this.db.query(
        `SELECT variant_key AS variant, count(DISTINCT decision_id) AS decisions, count(*) AS slots,
              count(*) FILTER (WHERE explored) AS explored, count(*) FILTER (WHERE cold_start) AS cold
       FROM decision_slots
       WHERE experiment_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at < $3)
       GROUP BY variant_key ORDER BY variant_key`,
        [experimentId, from, to],
      );
    return rows.map((r) =>
      figures(r.variant, Number(r.decisions), Number(r.slots), Number(r.explored), Number(r.cold)),
    );
  }

  async coldStart(
    experimentId: string,
    threshold: number,
    from: Date | null,
    to: Date | null,
  ): Promise<ColdStartFigures> {
    const [counts] = await this.db.query(
      `WITH shortlisted AS (
         SELECT DISTINCT jsonb_array_elements_text(shortlist->'ids') AS item_id FROM decisions
         WHERE experiment_id = $1 AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)),
       shown AS (SELECT item_id, count(*) AS n FROM decision_slots WHERE experiment_id = $1 GROUP BY item_id)
       SELECT count(*) FILTER (WHERE COALESCE(s.n, 0) < $2) AS cold,
              count(*) FILTER (WHERE COALESCE(s.n, 0) < $2 AND s.n >= 1) AS cold_shown,
              (SELECT count(*) FROM shown WHERE n >= $2) AS graduated
       FROM shortlisted l LEFT JOIN shown s USING (item_id)`,
      [experimentId, threshold, from, to],
    );
    // The decisions between an item's first impression and its graduation are counted by a join and grouping, not
    // a correlated subquery per item: Citus refuses one next to a CTE.
    const [median] = await this.db.query(
      `WITH ranked AS (
         SELECT item_id, created_at, row_number() OVER (PARTITION BY item_id ORDER BY created_at, decision_id) AS rn
         FROM decision_slots WHERE experiment_id = $1),
       grad AS (
         SELECT r.item_id, f.first_at, r.created_at AS grad_at FROM ranked r
         JOIN (SELECT item_id, min(created_at) AS first_at FROM decision_slots WHERE experiment_id = $1 GROUP BY item_id) f USING (item_id)
         WHERE r.rn = $2),
       spans AS (
         SELECT g.item_id, count(*) AS n FROM grad g
         JOIN decisions d ON d.experiment_id = $1 AND d.created_at >= g.first_at AND d.created_at <= g.grad_at
         GROUP BY g.item_id)
       SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY COALESCE(b.n, 0)) AS median
       FROM grad g LEFT JOIN spans b USING (item_id)`,
      [experimentId, threshold],
    );
    return {
      coldItems: Number(counts.cold),
      coldItemsShown: Number(counts.cold_shown),
      graduatedItems: Number(counts.graduated),
      medianDecisionsToGraduate: median?.median === null || median?.median === undefined ? null : Number(median.median),
    };
  }

  /** The `limit` items with the most shown slots in the window (ties: item id), with reward sums and lifetime impressions. */
  async topItems(experimentId: string, from: Date | null, to: Date | null, limit: number): Promise<ItemCounts[]> {
    const rows: Array<{ item_id: string; n: number; r: number; rr: number; binary: boolean; lifetime: number }> =
      await this.db.query(
        `WITH w AS (
         SELECT item_id, count(*)::int AS n, sum(reward)::float8 AS r, sum(reward * reward)::float8 AS rr, bool_and(reward IN (0, 1)) AS binary
         FROM decision_slots
         WHERE experiment_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at < $3)
         GROUP BY item_id ORDER BY n DESC, item_id LIMIT $4),
       life AS (
         SELECT item_id, count(*)::int AS n FROM decision_slots
         WHERE experiment_id = $1 AND item_id IN (SELECT item_id FROM w) GROUP BY item_id)
       SELECT w.item_id, w.n, w.r, w.rr, w.binary, life.n AS lifetime
       FROM w JOIN life USING (item_id) ORDER BY w.n DESC, w.item_id`,
        [experimentId, from, to, limit],
      );
    return rows.map((r) => ({
      itemId: r.item_id,
      impressions: Number(r.n),
      rewards: Number(r.r),
      rewardSquares: Number(r.rr),
      binary: r.binary,
      lifetimeImpressions: Number(r.lifetime),
    }));
  }

  /**
   * Cold items (the same set `coldStart` counts: shortlisted by a decision in the window, fewer than `threshold` shown
   * slots over the experiment's log), most impressions first (ties: item id), with the impressions still missing.
   */
  async coldItems(
    experimentId: string,
    threshold: number,
    from: Date | null,
    to: Date | null,
    limit: number,
  ): Promise<ColdItem[]> {
    const rows: Array<{ item_id: string; n: number; remaining: number }> = await this.db.query(
      `WITH shortlisted AS (
         SELECT DISTINCT jsonb_array_elements_text(shortlist->'ids') AS item_id FROM decisions
         WHERE experiment_id = $1 AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)),
       shown AS (SELECT item_id, count(*)::int AS n FROM decision_slots WHERE experiment_id = $1 GROUP BY item_id),
       cold AS (SELECT l.item_id, COALESCE(s.n, 0) AS n FROM shortlisted l LEFT JOIN shown s USING (item_id) WHERE COALESCE(s.n, 0) < $2)
       SELECT item_id, n, ($2::int - n) AS remaining FROM cold ORDER BY n DESC, item_id LIMIT $5`,
      [experimentId, threshold, from, to, limit],
    );
    return rows.map((r) => ({ itemId: r.item_id, impressions: Number(r.n), remaining: Number(r.remaining) }));
  }
}

function figures(
  variant: string,
  decisions: number,
  slots: number,
  explored: number,
  cold: number,
): ExplorationFigures & { variant: string } {
  return {
    variant,
    decisions,
    slots,
    exploredSlots: explored,
    coldSlots: cold,
    exploreRate: rate(explored, slots),
    coldStartRate: rate(cold, slots),
  };
}

export function totalOf(rows: ExplorationFigures[]): ExplorationFigures {
  const sum = (f: (r: ExplorationFigures) => number) => rows.reduce((a, r) => a + f(r), 0);
  const slots = sum((r) => r.slots);
  const explored = sum((r) => r.exploredSlots);
  const cold = sum((r) => r.coldSlots);
  return {
    decisions: sum((r) => r.decisions),
    slots,
    exploredSlots: explored,
    coldSlots: cold,
    exploreRate: rate(explored, slots),
    coldStartRate: rate(cold, slots),
  };
}
