import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { GroupCommit } from '../../common/group-commit';
import { DecisionsRepository } from './decisions.repository';

interface Job {
  decisionId: string;
  itemIds: string[];
  compute: () => number[];
}

type Row = { decisionId: string; itemId: string; propensity: number };

/** Slices of decisions whose propensities one UPDATE statement carries. */
const UPDATE_BATCH_MAX = 64;
/** Longest run of propensity computations between two event-loop turns (ms): bounds what it adds to a request's wait. */
const SLICE_MS = 8;

/**
 * Monte-Carlo propensities off the request path (thompson `propensities: "deferred"`, issue 13). `rank` stores the
 * decision (slots with propensity NULL) before it answers, then hands the deferred computation here; it runs after the
 * answer (setImmediate: the response is written first) and the results are written in batched UPDATEs of
 * `decision_slots`. The score distribution the re-draws use was fixed at decision time, so the stored numbers equal
 * what an inline decision would have logged (exact replay). On a graceful stop everything queued is computed and
 * written before the database closes. A crash (kill -9, power loss) loses the propensities of decisions still queued
 * or being written — at most the last ~second's decisions; their slots keep propensity NULL (OPE treats such slots
 * as without support) while the decision, its slots and its observation in the posterior are durable as always.
 */
@Injectable()
export class DeferredPropensities implements OnModuleDestroy {
  private readonly logger = new Logger('DeferredPropensities');
  private readonly jobs: Job[] = [];
  private running: Promise<void> | null = null;
  private readonly updates: GroupCommit<Row[]>;

  constructor(private readonly decisions: DecisionsRepository) {
    this.updates = new GroupCommit((batches) => this.decisions.setPropensities(batches.flat()), UPDATE_BATCH_MAX);
  }

  /** Queues a stored decision's propensities (`compute` gives one per item of `itemIds`, in slot order). */
  enqueue(decisionId: string, itemIds: string[], compute: () => number[]): void {
    this.jobs.push({ decisionId, itemIds, compute });
    this.kick();
  }

  /** Starts the worker unless it runs; it works the queue off, so a job queued while it runs is taken by it. */
  private kick(): void {
    if (this.running) return;
    this.running = this.work().finally(() => {
      this.running = null;
      if (this.jobs.length) this.kick();
    });
  }

  /** Decisions queued and not yet written (for tests and shutdown). */
  get pending(): number {
    return this.jobs.length;
  }

  async onModuleDestroy(): Promise<void> {
    while (this.jobs.length || this.running) {
      this.kick();
      await this.running;
    }
    await this.updates.drain();
  }

  private async work(): Promise<void> {
    // after the current turn: the answer of the request that queued the job is written first
    await new Promise<void>((r) => setImmediate(r));
    while (this.jobs.length) {
      // a slice of at most ~SLICE_MS of computation, written in one statement; then requests get their turn
      const rows: Row[] = [];
      const until = performance.now() + SLICE_MS;
      do {
        const job = this.jobs.shift() as Job;
        try {
          const props = job.compute();
          job.itemIds.forEach((itemId, j) => rows.push({ decisionId: job.decisionId, itemId, propensity: props[j] }));
        } catch (err) {
          this.logger.error(
            `propensities of decision ${job.decisionId} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      } while (this.jobs.length && performance.now() < until);
      if (rows.length)
        this.updates
          .submit(rows)
          .catch((err: unknown) =>
            this.logger.error(
              `writing ${rows.length} deferred propensities failed: ${err instanceof Error ? err.message : String(err)}`,
            ),
          );
      await new Promise<void>((r) => setImmediate(r));
    }
  }
}
