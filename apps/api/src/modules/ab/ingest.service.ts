import { Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { BatchResult, EventsBatchInput, ExposuresBatchInput, MAX_FUTURE_MS } from './ab.schema';
import { AssignmentService } from './assignment.service';
import { EventsFeed } from './events-feed';
import { EventRow, EventsRepository } from './events.repository';
import { ExposureRow, ExposuresRepository } from './exposures.repository';

const FUTURE = `timestamp is more than ${MAX_FUTURE_MS / 60_000} minutes in the future`;

/** Batch writes of outcome events and of exposures assigned elsewhere. */
@Injectable()
export class IngestService {
  constructor(
    private readonly events: EventsRepository,
    private readonly exposures: ExposuresRepository,
    private readonly assignment: AssignmentService,
    private readonly feed: EventsFeed,
  ) {}

  /**
   * Events: `value` defaults to 1, `timestamp` to the time of receipt; a timestamp more than 5 minutes ahead of
   * the server clock is rejected by index. Events with an `eventId` are stored once (a repeat, in this batch or
   * any earlier one, counts as a duplicate); events without one are always stored, so a retried batch without
   * ids counts them twice. The batch is one statement: durable when this returns.
   */
  async ingestEvents(input: EventsBatchInput): Promise<BatchResult> {
    const now = Date.now();
    const receivedAt = new Date(now).toISOString();
    const rows: EventRow[] = [];
    const rejected: BatchResult['rejected'] = [];
    input.events.forEach((e, index) => {
      const ts = e.timestamp === undefined ? now : Date.parse(e.timestamp);
      if (ts > now + MAX_FUTURE_MS) rejected.push({ index, reason: FUTURE });
      else
        rows.push({
          eventId: e.eventId ?? null,
          unitId: e.unitId,
          metric: e.metric,
          value: e.value,
          ts: e.timestamp === undefined ? receivedAt : new Date(ts).toISOString(),
        });
    });
    const accepted = await this.insertEvents(rows, now);
    return { accepted, duplicates: rows.length - accepted, rejected };
  }

  /** One insert statement; the stored rows the accepted-events listener (the feature store) reads are queued for it in that statement. */
  private async insertEvents(rows: EventRow[], now: number): Promise<number> {
    const listener = rows.length ? this.feed.listener : null;
    const metrics = listener ? await listener.queuedMetrics(rows) : [];
    if (!metrics.length) return this.events.insert(rows);
    const stored = await this.events.insert(rows, { metrics, receivedMs: now, writeId: randomInt(0, 2 ** 48 - 1) });
    if (stored) listener!.queued(rows.filter((r) => metrics.includes(r.metric)).map((r) => r.unitId));
    return stored;
  }

  /**
   * Exposures of `assignment: "external"` experiments, in the experiment's current phase. Idempotent per
   * (experiment, unit, variant): a repeat is a duplicate (an earlier timestamp moves the first time back). A unit
   * reported in two variants is stored in both and left out of the analysis (health figure `multipleExposures`).
   */
  async ingestExposures(input: ExposuresBatchInput): Promise<BatchResult> {
    const now = Date.now();
    const rejected: BatchResult['rejected'] = [];
    const byKey = new Map<string, ExposureRow>();
    let valid = 0;
    const experiments = new Map<string, Awaited<ReturnType<AssignmentService['load']>>>();
    for (const key of new Set(input.exposures.map((e) => e.experiment)))
      experiments.set(key, await this.assignment.load(key));
    input.exposures.forEach((e, index) => {
      const exp = experiments.get(e.experiment);
      const ts = e.timestamp === undefined ? now : Date.parse(e.timestamp);
      let reason: string | null = null;
      if (!exp) reason = `unknown experiment "${e.experiment}"`;
      else if (exp.assignment !== 'external')
        reason = `experiment "${e.experiment}" is assigned by Slotwise; its exposures are logged by /v1/assign`;
      else if (!exp.configs.has(e.variant)) reason = `"${e.variant}" is not a variant of "${e.experiment}"`;
      else if (ts > now + MAX_FUTURE_MS) reason = FUTURE;
      if (reason !== null || !exp) return void rejected.push({ index, reason: reason! });
      valid++;
      const row: ExposureRow = {
        experimentId: exp.id,
        phase: exp.phase,
        unitId: e.unitId,
        variant: e.variant,
        at: new Date(ts),
        attributes: e.attributes ?? null,
      };
      const k = `${exp.id}|${exp.phase}|${e.variant}|${e.unitId}`;
      const seen = byKey.get(k);
      if (!seen || row.at < seen.at) byKey.set(k, row);
    });
    const accepted = await this.exposures.importRows([...byKey.values()]);
    return { accepted, duplicates: valid - accepted, rejected };
  }
}
