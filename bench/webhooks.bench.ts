import { WebhooksRepository } from '../apps/api/src/modules/webhooks';
import { startTestApp } from '../test/support/test-app';
import { WebhookReceiver } from '../test/support/webhook-receiver';

/**
 * Sustained webhook deliveries: BENCH_WEBHOOK_DELIVERIES (default 5,000) events are written to the outbox in
 * transactions of 500 (as producers do), then the app's delivery worker sends them to a local receiver that verifies
 * each signature; the clock runs from the first enqueue to the last verified delivery (the enqueueing overlaps the
 * sending). Figures: deliveries, seconds, deliveriesPerMinute (target ≥ 1,000), verified, duplicates.
 */
export async function benchWebhooks(): Promise<Record<string, number>> {
  const n = Number(process.env.BENCH_WEBHOOK_DELIVERIES ?? 5_000);
  const rx = await new WebhookReceiver().start();
  const t = await startTestApp({
    env: { WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8', WEBHOOK_POLL_MS: '200', MODEL_FLUSH_MS: '60000' },
  });
  try {
    const hook = await t.call('POST', '/v1/webhooks', { body: { url: rx.url, eventTypes: ['trigger.fired'] } });
    if (hook.status !== 201) throw new Error(`bench webhook: ${hook.status} ${hook.text}`);
    rx.secret = hook.body.secret;
    const repo = t.running.app.get(WebhooksRepository);
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i += 500) {
      await repo.transaction(async (m) => {
        for (let j = i; j < Math.min(n, i + 500); j++) await repo.enqueue(m, 'trigger.fired', { bench: j });
      });
    }
    await rx.until(() => rx.processed.length >= n, 30 * 60_000);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      deliveries: n,
      seconds: Math.round(seconds * 100) / 100,
      deliveriesPerMinute: Math.round((n / seconds) * 60),
      verified: rx.requests.filter((r) => r.verified).length,
      duplicates: rx.requests.length - rx.processed.length,
    };
  } finally {
    await t.close(true);
    await rx.stop();
  }
}
