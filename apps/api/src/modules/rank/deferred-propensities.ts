import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { PropensityJob } from '@slotwise/bandit';
import { GroupCommit } from '../../common/group-commit';
import { DecisionsRepository } from './decisions.repository';
import { PropensityWorkers } from './propensity-workers';

interface Job {
  decisionId: string;
  itemIds: string[];
  compute: () => number[];
  /** the same computation as data, for the worker thread (Gaussian models) */
  data?: PropensityJob;
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
 *
 * Jobs that come as data (`PropensityJob`, the hybrid model) run in a worker thread ({@link PropensityWorkers}), so
 * the re-draws do not take the event loop's time; a job the worker cannot run is computed here instead. Either way
 * the numbers are the same (the job is the decision-time distribution and stream).
 */
@Injectable()
export class DeferredPropensities implements OnModuleDestroy {
  private readonly logger = new Logger('DeferredPropensities');
  private readonly jobs: Job[] = [];
  private running: Promise<void> | null = null;
  private readonly updates: GroupCommit<Row[]>;
  private readonly workers = new PropensityWorkers();
  /** worker results not yet handed to the batched UPDATE */
  private readonly offloaded = new Set<Promise<void>>();

  constructor(private readonly decisions: DecisionsRepository) {
    this.updates = new GroupCommit((batches) => this.decisions.setPropensities(batches.flat()), UPDATE_BATCH_MAX);
  }

  /**
   * Queues a stored decision's propensities (`compute` gives one per item of `itemIds`, in slot order; `data`, when
   * given, is the same computation for the worker thread).
   */
  enqueue(decisionId: string, itemIds: string[], compute: () => number[], data?: PropensityJob): void {
    const job: Job = { decisionId, itemIds, compute, data };
    // to the worker once it has loaded (until then, and without data, on this thread as before)
    if (data && this.workers.available) this.offload(job);
    else {
      this.jobs.push(job);
      this.kick();
    }
  }

  /** Inline jobs the worker thread has answered (tests; the rest were computed on this thread). */
  inlineOnWorker = 0;

  /** Whether the worker thread takes jobs now (starts it on the first ask; false until it has loaded). */
  get offloading(): boolean {
    return this.workers.available;
  }

  /** Resolves once the worker thread takes jobs (false: it could not start). */
  whenOffloading(): Promise<boolean> {
    return this.workers.whenReady();
  }

  /**
   * Inline propensities (thompson `propensities: "inline"`) computed in the worker thread and awaited: the answer
   * still carries them, but the event loop serves other requests while the re-draws run on the other core. Without
   * `data`, before the thread has loaded, or if it fails the job, they are computed here — the same numbers either way.
   */
  async compute(compute: () => number[], data?: PropensityJob): Promise<number[]> {
    if (data && this.workers.available) {
      try {
        const props = await this.workers.run(data);
        this.inlineOnWorker += 1;
        return props;
      } catch (err) {
        this.logger.warn(
          `propensity worker failed an inline job (${err instanceof Error ? err.message : String(err)}); computing it here`,
        );
      }
    }
    return compute();
  }

  /** Runs a job in the worker thread; if the worker fails it, the job joins the in-thread queue. */
  private offload(job: Job): void {
    const done: Promise<void> = this.workers.run(job.data!).then(
      (props) => this.write(this.rowsOf(job, props)),
      (err: unknown) => {
        this.logger.warn(
          `propensity worker failed decision ${job.decisionId} (${err instanceof Error ? err.message : String(err)}); computing it here`,
        );
        this.jobs.push({ ...job, data: undefined });
        this.kick();
      },
    );
    this.offloaded.add(done);
    void done.finally(() => this.offloaded.delete(done));
  }

  private rowsOf(job: Job, props: number[]): Row[] {
    return job.itemIds.map((itemId, j) => ({ decisionId: job.decisionId, itemId, propensity: props[j] }));
  }

  private write(rows: Row[]): void {
    if (!rows.length) return;
    this.updates
      .submit(rows)
      .catch((err: unknown) =>
        this.logger.error(
          `writing ${rows.length} deferred propensities failed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
  }

  /** Starts the worker unless it runs; it works the queue off, so a job queued while it runs is taken by it. */
  private kick(): void {
    if (this.running) return;
    this.running = this.work().finally(() => {
      this.running = null;
      if (this.jobs.length) this.kick();
    });
  }

  /** Decisions queued or in the worker, not yet handed to the batched UPDATE (for tests and shutdown). */
  get pending(): number {
    return this.jobs.length + this.offloaded.size;
  }

  async onModuleDestroy(): Promise<void> {
    while (this.jobs.length || this.running || this.offloaded.size) {
      await Promise.all([...this.offloaded]);
      this.kick();
      await this.running;
    }
    await this.workers.stop();
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
          rows.push(...this.rowsOf(job, job.compute()));
        } catch (err) {
          this.logger.error(
            `propensities of decision ${job.decisionId} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      } while (this.jobs.length && performance.now() < until);
      this.write(rows);
      await new Promise<void>((r) => setImmediate(r));
    }
  }
}
