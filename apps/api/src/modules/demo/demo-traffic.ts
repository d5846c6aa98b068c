/**
 * The demo workspace, driven through the real HTTP API like any product back-end: a catalog from the simulator's
 * e-commerce world, a running ranking experiment (ranker greedy vs Thompson with the default model over the fixture
 * ONNX ranker), a running A/B experiment with a primary metric and a guardrail, and gentle background traffic.
 *
 * The Thompson variant names no model: it gets the default a new user's experiment gets, so the demo shows the default
 * (measured against the ranker order over 30 minutes of this traffic in bench/results/demo-30min.json).
 */
import { createRng, type Rng } from '@slotwise/bandit';
import { existsSync } from 'node:fs';
import { ApiError, SlotwiseClient } from '@slotwise/client';
import { DEFAULT_THOMPSON_MODEL, decisionItemKey } from '@slotwise/contracts';
import { EcommerceWorld } from '@slotwise/simulation';
import { fixturePath, loadFixtureModel } from '@slotwise/ranker-fixtures';

export const DEMO_RANKING = 'demo-home-feed';
export const DEMO_AB = 'demo-checkout-button';

export interface DemoTrafficOptions {
  /** Milliseconds between visits (each visit: one rank call and one A/B assignment). */
  intervalMs: number;
  /** Real delay range of a click's reward, ms. */
  rewardDelayMs: [number, number];
  seed: number;
  log: (message: string) => void;
}

const CATEGORIES = ['shoes', 'jackets', 'bags', 'shirts', 'watches'];

async function ignoreConflict<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) return null;
    throw err;
  }
}

/** Creates the demo catalog and experiments (idempotent: existing ones are kept). */
export async function seedDemo(client: SlotwiseClient, world: EcommerceWorld): Promise<void> {
  let ranker = 'none';
  let hasFixture: boolean;
  try {
    hasFixture = existsSync(fixturePath('news-mlp.onnx'));
  } catch {
    hasFixture = false;
  }
  if (hasFixture && world.spec.ranker === 'fixture') {
    const { bytes, signature } = loadFixtureModel('split');
    const models = await client.request<{ models: Array<{ ref: string; name: string }> }>('GET', '/v1/models');
    const existing = models.models.find((m) => m.name === 'demo-news-mlp');
    ranker =
      existing?.ref ??
      (
        await client.request<{ ref: string }>('POST', '/v1/models', {
          name: 'demo-news-mlp',
          signature,
          onnx: Buffer.from(bytes).toString('base64'),
          description:
            'Demo ranker: the PyTorch-exported fixture MLP (16 context × 16 item features, 8-wide embedding)',
        })
      ).ref;
  }
  const first = world.next();
  await client.request('POST', '/v1/items/batch', {
    items: first.candidates.map((c, i) => ({
      id: c.id,
      features: Object.fromEntries(world.spec.itemFeatures.map((n, j) => [n, c.features[j]])),
      attributes: { title: `Demo product ${c.id.slice(4)}`, category: CATEGORIES[i % CATEGORIES.length], demo: true },
    })),
  });
  const created = await ignoreConflict(
    client.request('POST', '/v1/experiments', {
      key: DEMO_RANKING,
      name: 'Demo: home feed ranking',
      hypothesis: `Thompson sampling over the ranker shortlist (${DEFAULT_THOMPSON_MODEL} model, the default) earns more clicks than the ranker order, and finds good new products sooner.`,
      kind: 'ranking',
      slots: world.spec.slots,
      features: { context: world.spec.contextFeatures, item: world.spec.itemFeatures },
      ranker: { model: ranker, shortlist: world.spec.shortlist },
      variants: [
        { key: 'control', name: 'Ranker order', weight: 50, policy: { type: 'ranker' } },
        {
          key: 'thompson',
          name: `Thompson ${DEFAULT_THOMPSON_MODEL}`,
          weight: 50,
          // The default model, as a new experiment gets it; fewer propensity re-draws than the default 1,000 keep the
          // demo's background CPU low (they change the logged propensities' precision, never the choices).
          policy: { type: 'thompson', propensityDraws: 200 },
        },
      ],
      metrics: { primary: 'reward', guardrails: [], secondary: [] },
      coldStartThreshold: 100,
      tags: ['demo'],
    }),
  );
  if (created) await client.request('POST', `/v1/experiments/${DEMO_RANKING}/start`);

  await ignoreConflict(
    client.request('POST', '/v1/metrics', {
      key: 'purchase',
      name: 'Purchase',
      description: 'Visitor bought something (demo)',
      type: 'binary',
      direction: 'increase',
    }),
  );
  await ignoreConflict(
    client.request('POST', '/v1/metrics', {
      key: 'refund',
      name: 'Refund',
      description: 'Visitor asked for a refund (demo guardrail)',
      type: 'binary',
      direction: 'decrease',
      guardrailMargin: 0.05,
    }),
  );
  const ab = await ignoreConflict(
    client.request('POST', '/v1/experiments', {
      key: DEMO_AB,
      name: 'Demo: checkout button',
      hypothesis: 'A green "Buy now" button raises purchases without raising refunds.',
      kind: 'ab',
      variants: [
        { key: 'control', name: 'Blue "Checkout"', weight: 1, config: { color: 'blue', label: 'Checkout' } },
        { key: 'green', name: 'Green "Buy now"', weight: 1, config: { color: 'green', label: 'Buy now' } },
      ],
      metrics: { primary: 'purchase', guardrails: ['refund'], secondary: [] },
      tags: ['demo'],
    }),
  );
  if (ab) await client.request('POST', `/v1/experiments/${DEMO_AB}/start`);
}

/** Background visits until stopped. Errors are logged (rate-limited) and never stop the app. */
export class DemoTraffic {
  private timer?: NodeJS.Timeout;
  private readonly rng: Rng;
  private pendingRewards: Array<{ due: number; decisionId: string; itemId: string }> = [];
  private visits = 0;
  private inFlight = 0;
  private lastError = 0;
  private stopped = false;

  constructor(
    private readonly client: SlotwiseClient,
    private readonly world: EcommerceWorld,
    private readonly options: DemoTrafficOptions,
  ) {
    this.rng = createRng(`demo:${options.seed}`);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.inFlight > 4) return; // the API is busy: skip a beat rather than pile up
      this.inFlight++;
      this.visit()
        .catch((err) => this.report(err))
        .finally(() => this.inFlight--);
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.world.close();
  }

  private report(err: unknown): void {
    if (this.stopped) return;
    const now = Date.now();
    if (now - this.lastError > 60_000) {
      this.lastError = now;
      this.options.log(`demo traffic: ${(err as Error).message}`);
    }
  }

  private async visit(): Promise<void> {
    const n = this.visits++;
    const req = this.world.next();
    // New products of the world's churn join the catalog before they are ranked.
    const fresh = req.candidates.filter((c) => this.world.arrivals.get(c.id) === req.index);
    if (fresh.length) {
      await this.client.request('POST', '/v1/items/batch', {
        items: fresh.map((c) => ({
          id: c.id,
          features: Object.fromEntries(this.world.spec.itemFeatures.map((name, j) => [name, c.features[j]])),
          attributes: { title: `Demo product ${c.id.slice(4)}`, demo: true },
        })),
      });
    }
    const [answer, truth] = await Promise.all([
      this.client.request<{ decisionId: string | null; slots: Array<{ itemId: string }> }>('POST', '/v1/rank', {
        experiment: DEMO_RANKING,
        unitId: req.unitId,
        context: req.context,
        candidates: req.candidates.map((c) => ({ id: c.id })),
      }),
      this.world.truth(req),
    ]);
    if (answer.decisionId) {
      const index = new Map(req.candidates.map((c, i) => [c.id, i]));
      answer.slots.forEach((s, j) => {
        if (req.clickUniforms[j] < truth.clickProbability(truth.eta[index.get(s.itemId)!], j)) {
          const [lo, hi] = this.options.rewardDelayMs;
          this.pendingRewards.push({
            due: Date.now() + lo + this.rng.uniform() * (hi - lo),
            decisionId: answer.decisionId!,
            itemId: s.itemId,
          });
        }
      });
    }
    await this.sendDueRewards();

    // The A/B experiment: a visitor is assigned, then maybe purchases (and, rarely, asks for a refund).
    const visitor = `visitor-${this.options.seed}-${n}`;
    const assigned = await this.client.request<{ variant: string | null; inExperiment: boolean }>(
      'POST',
      '/v1/assign',
      { experiment: DEMO_AB, unitId: visitor },
    );
    if (assigned.inExperiment && assigned.variant) {
      const green = assigned.variant === 'green';
      const events: Array<{ unitId: string; metric: string; value: number; eventId: string }> = [];
      if (this.rng.uniform() < (green ? 0.12 : 0.1)) {
        events.push({ unitId: visitor, metric: 'purchase', value: 1, eventId: `${visitor}:purchase` });
        if (this.rng.uniform() < (green ? 0.1 : 0.09))
          events.push({ unitId: visitor, metric: 'refund', value: 1, eventId: `${visitor}:refund` });
      }
      if (events.length) await this.client.request('POST', '/v1/events', { events });
    }
  }

  private async sendDueRewards(): Promise<void> {
    const now = Date.now();
    const due = this.pendingRewards.filter((p) => p.due <= now);
    if (!due.length) return;
    this.pendingRewards = this.pendingRewards.filter((p) => p.due > now);
    await this.client.request(
      'POST',
      '/v1/rewards',
      {
        rewards: due.map((d) => ({
          decisionId: d.decisionId,
          itemId: d.itemId,
          value: 1,
          eventId: decisionItemKey(d.decisionId, d.itemId),
        })),
      },
      { retries: 2 },
    );
  }
}
