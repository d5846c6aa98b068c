import { MigrationInterface, QueryRunner } from 'typeorm';
import { PackedStats, packedColumns, packStats, unpackStats } from '../../modules/rank/stats-codec';

/**
 * Posterior statistics move from base64 Float64 blobs inside jsonb to a `bytea` of packed doubles plus a small jsonb
 * layout (see stats-codec.ts): a flush of a hybrid model no longer parses, compresses and re-encodes megabytes of
 * base64 text. The values are stored uncompressed (doubles barely compress; trying costs a full pass). Existing
 * rows are converted in both directions, exactly.
 */
export class PackedModelStats1764691200000 implements MigrationInterface {
  name = 'PackedModelStats1764691200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE model_state ADD COLUMN config jsonb, ADD COLUMN stats_layout jsonb, ADD COLUMN stats_values bytea`,
    );
    await q.query(`ALTER TABLE model_item_state ADD COLUMN stats_layout jsonb, ADD COLUMN stats_values bytea`);
    await forEachBatch(q, 'model_state', 'snapshot AS data', 16, async (rows) => {
      const snapshots = rows.map((r) => r.data as { config: unknown; shared: unknown });
      const packed = packedColumns(snapshots.map((s) => packStats(decodeLegacyStats(s.shared))));
      await q.query(
        `UPDATE model_state m SET config = u.config, stats_layout = u.layout, stats_values = substring($5::bytea FROM u.start + 1 FOR u.length)
         FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[], $6::int[], $7::int[]) AS u(experiment_id, variant_key, config, layout, start, length)
         WHERE m.experiment_id = u.experiment_id AND m.variant_key = u.variant_key`,
        [
          rows.map((r) => r.experiment_id),
          rows.map((r) => r.variant_key),
          snapshots.map((s) => JSON.stringify(s.config)),
          packed.layouts,
          packed.values,
          packed.starts,
          packed.lengths,
        ],
      );
    });
    await forEachBatch(q, 'model_item_state', 'stats AS data', 500, async (rows) => {
      const packed = packedColumns(rows.map((r) => packStats(decodeLegacyStats(r.data))));
      await q.query(
        `UPDATE model_item_state m SET stats_layout = u.layout, stats_values = substring($5::bytea FROM u.start + 1 FOR u.length)
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $6::int[], $7::int[]) AS u(experiment_id, variant_key, item_id, layout, start, length)
         WHERE m.experiment_id = u.experiment_id AND m.variant_key = u.variant_key AND m.item_id = u.item_id`,
        [
          rows.map((r) => r.experiment_id),
          rows.map((r) => r.variant_key),
          rows.map((r) => r.item_id),
          packed.layouts,
          packed.values,
          packed.starts,
          packed.lengths,
        ],
      );
    });
    await q.query(`ALTER TABLE model_state ALTER COLUMN config SET NOT NULL, ALTER COLUMN stats_layout SET NOT NULL, ALTER COLUMN stats_values SET NOT NULL,
      ALTER COLUMN stats_values SET STORAGE EXTERNAL, DROP COLUMN snapshot`);
    await q.query(`ALTER TABLE model_item_state ALTER COLUMN stats_layout SET NOT NULL, ALTER COLUMN stats_values SET NOT NULL,
      ALTER COLUMN stats_values SET STORAGE EXTERNAL, DROP COLUMN stats`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_state ADD COLUMN snapshot jsonb`);
    await q.query(`ALTER TABLE model_item_state ADD COLUMN stats jsonb`);
    await forEachBatch(
      q,
      'model_state',
      'config, stats_layout AS layout, stats_values AS "values"',
      16,
      async (rows) => {
        await q.query(
          `UPDATE model_state m SET snapshot = u.snapshot FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) AS u(experiment_id, variant_key, snapshot)
         WHERE m.experiment_id = u.experiment_id AND m.variant_key = u.variant_key`,
          [
            rows.map((r) => r.experiment_id),
            rows.map((r) => r.variant_key),
            rows.map((r) =>
              JSON.stringify({ config: r.config, shared: encodeLegacyStats(unpackStats(r as unknown as PackedStats)) }),
            ),
          ],
        );
      },
    );
    await forEachBatch(q, 'model_item_state', 'stats_layout AS layout, stats_values AS "values"', 500, async (rows) => {
      await q.query(
        `UPDATE model_item_state m SET stats = u.stats FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[]) AS u(experiment_id, variant_key, item_id, stats)
         WHERE m.experiment_id = u.experiment_id AND m.variant_key = u.variant_key AND m.item_id = u.item_id`,
        [
          rows.map((r) => r.experiment_id),
          rows.map((r) => r.variant_key),
          rows.map((r) => r.item_id),
          rows.map((r) => JSON.stringify(encodeLegacyStats(unpackStats(r as unknown as PackedStats)))),
        ],
      );
    });
    await q.query(
      `ALTER TABLE model_state ALTER COLUMN snapshot SET NOT NULL, DROP COLUMN config, DROP COLUMN stats_layout, DROP COLUMN stats_values`,
    );
    await q.query(
      `ALTER TABLE model_item_state ALTER COLUMN stats SET NOT NULL, DROP COLUMN stats_layout, DROP COLUMN stats_values`,
    );
  }
}

interface StateRow {
  experiment_id: string;
  variant_key: string;
  item_id?: string;
  data?: unknown;
  [column: string]: unknown;
}

/** Visits a table's rows in primary-key order, `size` at a time (rows of a hybrid model are ~1 MB each). */
async function forEachBatch(
  q: QueryRunner,
  table: 'model_state' | 'model_item_state',
  columns: string,
  size: number,
  visit: (rows: StateRow[]) => Promise<void>,
): Promise<void> {
  const key = table === 'model_state' ? ['experiment_id', 'variant_key'] : ['experiment_id', 'variant_key', 'item_id'];
  const keyList = key.join(', ');
  let last: unknown[] | null = null;
  for (;;) {
    const after: string = last ? `WHERE (${keyList}) > (${key.map((_, i) => `$${i + 1}`).join(', ')})` : '';
    const rows: StateRow[] = await q.query(
      `SELECT ${keyList}, ${columns} FROM ${table} ${after} ORDER BY ${keyList} LIMIT ${size}`,
      last ?? [],
    );
    if (!rows.length) return;
    await visit(rows);
    const end = rows[rows.length - 1];
    last = key.map((k) => end[k]);
  }
}

/** The previous format: number arrays of 8 or more as `{"$f64": base64 of Float64 little-endian}`, the rest as JSON. */
const LEGACY_BLOB = '$f64';
const LEGACY_MIN_BLOB = 8;

function decodeLegacyStats(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeLegacyStats);
  if (value && typeof value === 'object') {
    const blob = (value as Record<string, unknown>)[LEGACY_BLOB];
    if (typeof blob === 'string') {
      const bytes = Buffer.from(blob, 'base64');
      const doubles = new Float64Array(bytes.byteLength / 8);
      new Uint8Array(doubles.buffer).set(bytes);
      return doubles;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeLegacyStats(v)]));
  }
  return value;
}

function encodeLegacyStats(value: unknown): unknown {
  if (Array.isArray(value) && value.length >= LEGACY_MIN_BLOB && value.every((x) => typeof x === 'number')) {
    return { [LEGACY_BLOB]: Buffer.from(Float64Array.from(value as number[]).buffer).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encodeLegacyStats);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeLegacyStats(v)]));
  return value;
}
