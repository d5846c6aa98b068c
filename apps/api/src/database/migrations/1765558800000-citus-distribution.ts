import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Citus only (docs/scale-out.md): when the database has the `citus` extension, the large append-only tables become
 * distributed tables and the small ones reference tables (a copy on every node). On plain PostgreSQL and the
 * embedded database this migration does nothing.
 *
 * Distribution columns, chosen so that one request's writes go to one shard and the report's joins stay on a shard:
 * - `exposures`, `events` by `unit_id` (co-located): the A/B report joins a phase's exposures to events on the unit,
 *   so each shard joins its own units; an exposure or an event batch row goes to its unit's shard.
 * - `decisions` by `id`, `decision_slots` and `rewards` by `decision_id` (co-located): a rank writes one decision and
 *   its slots to one shard; a reward locks its slot and inserts next to it; per-decision joins stay on a shard.
 * - `feature_state` by `entity_id`: a rank reads one unit's features, an event updates one unit's state.
 *
 * Citus enforces UNIQUE / PRIMARY KEY only when they include the distribution column, so on Citus:
 * - `events_event_id` becomes UNIQUE (unit_id, event_id): an event id is deduplicated per unit (a retry repeats the
 *   same unit, so retries still count once);
 * - `rewards` gets PRIMARY KEY (decision_id, seq) and UNIQUE (decision_id, event_id): a reward's eventId is
 *   deduplicated per decision (a retry names the same decision), and the app also checks the ids first;
 * - `decisions_external_id` is dropped: an imported decision's id is derived from (experiment, external id), so the
 *   primary key already makes the import idempotent.
 * `exposures` (experiment_id, phase, unit_id, variant) and `feature_state` keys already include their columns.
 *
 * Three tables from migrations merged in the same session (shadow policies, triggers, unit history) exist before this
 * one runs and were first missed here, which made it fail on Citus ("foreign keys from ... local tables to
 * distributed tables are not supported": shadow_decisions → decisions). They are distributed below; the edit touches
 * only the Citus branch, which had never completed on any database, so no applied migration changes:
 * - `shadow_decisions` by `decision_id` (co-located with decisions: the OPE reads join them on the decision);
 * - `trigger_states` and `unit_history` by `unit_id` (co-located with events: per-unit state, erased per unit);
 * - `trigger_firings` by `id` (its key; listed per trigger); `triggers` is a reference table.
 *
 * `api_keys` stays a plain table on the coordinator: its last-admin trigger (an advisory lock, then a count of the
 * whole table) must run on one node, Citus refuses to distribute tables with triggers, and nothing joins keys
 * with distributed tables (keys are read by id through a cache).
 */
export class CitusDistribution1765558800000 implements MigrationInterface {
  name = 'CitusDistribution1765558800000';

  async up(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (!citus.length) return;
    // Citus's DDL on several shards in one transaction must run on one connection per node.
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    // Citus refuses a foreign key between a local table and a distributed or reference one, which every table is
    // for a moment below: the big tables' foreign keys are dropped first and put back, unchanged, at the end.
    const foreignKeys: Array<{ table: string; name: string; definition: string }> = await q.query(
      `SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS definition
       FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::regclass[])`,
      [DISTRIBUTED_TABLES],
    );
    for (const fk of foreignKeys) await q.query(`ALTER TABLE ${fk.table} DROP CONSTRAINT ${fk.name}`);
    // Parents before the tables with foreign keys to them.
    for (const table of REFERENCE_TABLES) await q.query(`SELECT create_reference_table($1)`, [table]);

    await q.query(`DROP INDEX events_event_id`);
    await q.query(`CREATE UNIQUE INDEX events_event_id ON events (unit_id, event_id)`);
    await q.query(`SELECT create_distributed_table('events', 'unit_id')`);
    await q.query(`SELECT create_distributed_table('exposures', 'unit_id', colocate_with => 'events')`);

    await q.query(`DROP INDEX decisions_external_id`);
    await q.query(`SELECT create_distributed_table('decisions', 'id')`);
    await q.query(`SELECT create_distributed_table('decision_slots', 'decision_id', colocate_with => 'decisions')`);
    await q.query(`ALTER TABLE rewards DROP CONSTRAINT rewards_pkey, ADD PRIMARY KEY (decision_id, seq)`);
    await q.query(`DROP INDEX rewards_event_id`);
    await q.query(`CREATE UNIQUE INDEX rewards_event_id ON rewards (decision_id, event_id) WHERE event_id IS NOT NULL`);
    await q.query(`SELECT create_distributed_table('rewards', 'decision_id', colocate_with => 'decisions')`);

    await q.query(`SELECT create_distributed_table('feature_state', 'entity_id')`);
    await q.query(`SELECT create_distributed_table('shadow_decisions', 'decision_id', colocate_with => 'decisions')`);
    await q.query(`SELECT create_distributed_table('trigger_states', 'unit_id', colocate_with => 'events')`);
    await q.query(`SELECT create_distributed_table('trigger_firings', 'id')`);
    await q.query(`SELECT create_distributed_table('unit_history', 'unit_id', colocate_with => 'events')`);
    for (const fk of foreignKeys) await q.query(`ALTER TABLE ${fk.table} ADD CONSTRAINT ${fk.name} ${fk.definition}`);
  }

  async down(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (!citus.length) return;
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    for (const table of [...[...DISTRIBUTED_TABLES].reverse(), ...[...REFERENCE_TABLES].reverse()]) {
      await q.query(
        `SELECT undistribute_table($1, cascade_via_foreign_keys => true) WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::regclass)`,
        [table],
      );
    }
    await q.query(`DROP INDEX rewards_event_id`);
    await q.query(`CREATE UNIQUE INDEX rewards_event_id ON rewards (event_id) WHERE event_id IS NOT NULL`);
    await q.query(`ALTER TABLE rewards DROP CONSTRAINT rewards_pkey, ADD PRIMARY KEY (seq)`);
    await q.query(
      `CREATE UNIQUE INDEX decisions_external_id ON decisions (experiment_id, external_id) WHERE external_id IS NOT NULL`,
    );
    await q.query(`DROP INDEX events_event_id`);
    await q.query(`CREATE UNIQUE INDEX events_event_id ON events (event_id)`);
  }
}

/** The large append-only tables, distributed in this order. */
const DISTRIBUTED_TABLES = [
  'events',
  'exposures',
  'decisions',
  'decision_slots',
  'rewards',
  'feature_state',
  'shadow_decisions',
  'trigger_states',
  'trigger_firings',
  'unit_history',
];

/** Small tables, copied to every node (joins with distributed tables stay local; foreign keys to them are allowed). */
const REFERENCE_TABLES = [
  'settings',
  'experiments',
  'variants',
  'items',
  'audit_log',
  'experiment_phases',
  'layers',
  'metric_definitions',
  'console_users',
  'console_sessions',
  'ranker_models',
  'model_state',
  'model_item_state',
  'report_cache',
  'replica_leases',
  'feature_definitions',
  'webhooks',
  'webhook_deliveries',
  'experiment_signals',
  'ope_runs',
  'triggers',
];
