import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { createRng } from '@slotwise/bandit';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DestinationPolicy } from './destination-policy';
import { retryDelayMs } from './retry-schedule';
import { sendWebhook } from './webhook-sender';
import { ClaimedDelivery, WebhooksRepository } from './webhooks.repository';

/** Deliveries claimed per poll (a full batch polls again at once). */
const BATCH = 100;
/** Attempts in flight at once per process. */
const CONCURRENCY = 32;

/**
 * The delivery worker: every WEBHOOK_POLL_MS (and at once after "send test" / redelivery) it claims due deliveries
 * from the outbox (`webhook_deliveries`, FOR UPDATE SKIP LOCKED, one short statement — several replicas share the
 * work and never send the same attempt twice) and POSTs each with its signature. A failure is retried after
 * `retryDelayMs` (exponential, jittered) until 24 h after the event; then the delivery is `failed`. A process
 * killed mid-attempt leaves the claimed row due again when its lease (twice the attempt timeout) ends, with the same
 * `webhook-id`, so the receiver can drop the duplicate.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(WebhookDispatcher.name);
  private readonly policy: DestinationPolicy;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  /** Jitter source; replace with a seeded generator for reproducible schedules. */
  uniform: () => number;

  constructor(
    private readonly repo: WebhooksRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.policy = new DestinationPolicy(config.webhookAllowPrivate);
    const rng = createRng(randomInt(2 ** 31));
    this.uniform = () => rng.uniform();
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Poll now (new deliveries were just enqueued in this process). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll()
        .catch((err: unknown) => {
          this.log.warn(`webhook delivery poll failed: ${String(err)}`);
          return 0;
        })
        .then((n) => {
          const more = n >= BATCH || this.again;
          this.again = false;
          this.schedule(more ? 0 : this.config.webhookPollMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** One pass: claims due deliveries and attempts each once; returns how many were attempted. Concurrent calls share the pass. */
  poll(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<number> {
    if (this.stopped) return 0;
    const claimed = await this.repo.claimDue(BATCH, 2 * this.config.webhookTimeoutMs + 1000);
    let next = 0;
    const worker = async () => {
      while (next < claimed.length && !this.stopped) await this.attempt(claimed[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, claimed.length) }, worker));
    return claimed.length;
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const r = await sendWebhook(
      this.policy,
      { url: d.url, secret: d.secret, id: d.id, body: d.body },
      this.config.webhookTimeoutMs,
    );
    if (r.ok) await this.repo.markDelivered(d.id, r.statusCode ?? 200);
    else
      await this.repo.markFailed(
        d.id,
        d.attempts,
        r.statusCode,
        r.error ?? 'failed',
        retryDelayMs(d.attempts, this.config.webhookRetryBaseMs, this.uniform),
      );
  }
}
