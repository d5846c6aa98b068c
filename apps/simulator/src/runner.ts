/**
 * Drives the real HTTP API with a world: uploads the ranker, creates the catalog and ONE ranking experiment with
 * one variant per compared policy (equal weights; units are hashed to variants by the API), ranks every request,
 * sends the clicks as rewards after their simulated lag (batched), and measures each variant against the oracle.
 */
import { DEFAULT_EPSILON } from '@slotwise/bandit';
import { decisionItemKey } from '@slotwise/contracts';
import { loadFixtureModel } from '@slotwise/ranker-fixtures';
import { randomBytes } from 'node:crypto';
import { SlotwiseClient } from './client';
import { oracleSlate, slateValue, VariantSummary, VariantTracker } from './metrics';
import type { World, WorldRequest, WorldSpec } from './world';

/** Due rewards are sent at least this often (decisions), in batches of at most `rewardBatch`. */
const REWARD_EVERY = 50;

export const POLICY_CATALOG = ['ts-hybrid', 'ts-neural-linear', 'ts-beta', 'egreedy', 'ranker', 'random'] as const;
export type PolicyKey = (typeof POLICY_CATALOG)[number];

export interface RunOptions {
  decisions: number;
  /** Variants to compare (keys of POLICY_CATALOG). */
  variants: PolicyKey[];
  /** Propensity draws of the Thompson variants (the API's default is 1,000; see docs/simulation.md). */
  propensityDraws: number;
  /** Rank requests in flight at once. */
  concurrency: number;
  /** Rewards per POST /v1/rewards (at most; sent earlier when the due ones wait too long). */
  rewardBatch: number;
  /** Max real requests per second (0 = as fast as the API answers). */
  rate: number;
  /** Points of the time series. */
  windows: number;
  experimentKey?: string;
  log?: (line: string) => void;
}

export interface RunResult {
  world: WorldSpec;
  experiment: string;
  decisions: number;
  seconds: number;
  variants: VariantSummary[];
  /** The API's own exploration section of the experiment report (GET /v1/experiments/{key}/report). */
  apiExploration: unknown;
  rewards: { sent: number; accepted: number; rejected: number };
}

export function policyFor(key: PolicyKey, propensityDraws: number): Record<string, unknown> {
  switch (key) {
    case 'ts-hybrid':
      return { type: 'thompson', model: 'hybrid', propensityDraws };
    case 'ts-neural-linear':
      return { type: 'thompson', model: 'neural-linear', propensityDraws };
    case 'ts-beta':
      return { type: 'thompson', model: 'beta', propensityDraws };
    case 'egreedy':
      return { type: 'epsilon-greedy', epsilon: DEFAULT_EPSILON, model: 'hybrid' };
    case 'ranker':
      return { type: 'ranker' };
    case 'random':
      return { type: 'random' };
  }
}

const POLICY_LABEL: Record<PolicyKey, string> = {
  'ts-hybrid': 'thompson hybrid',
  'ts-neural-linear': 'thompson neural-linear',
  'ts-beta': 'thompson beta',
  egreedy: `epsilon-greedy ε=${DEFAULT_EPSILON} (hybrid)`,
  ranker: 'ranker greedy',
  random: 'random',
};

/** Variants a world can serve: neural-linear needs a ranker with an embedding output. */
export function applicableVariants(
  spec: WorldSpec,
  wanted: readonly PolicyKey[],
): { use: PolicyKey[]; skipped: PolicyKey[] } {
  const use = wanted.filter((v) => v !== 'ts-neural-linear' || spec.ranker === 'fixture');
  return { use, skipped: wanted.filter((v) => !use.includes(v)) };
}

interface PendingReward {
  due: number;
  decisionId: string;
  itemId: string;
}

interface RankSlot {
  position: number;
  itemId: string;
  explored: boolean;
  coldStart: boolean;
}

interface RankAnswer {
  decisionId: string | null;
  variant: string | null;
  slots: RankSlot[];
}

export async function setupExperiment(
  client: SlotwiseClient,
  world: World,
  options: Pick<RunOptions, 'variants' | 'propensityDraws' | 'experimentKey'>,
): Promise<string> {
  const spec = world.spec;
  let rankerRef = 'none';
  if (spec.ranker === 'fixture') {
    const { bytes, signature } = loadFixtureModel('split');
    const model = await client.request<{ ref: string }>('POST', '/v1/models', {
      name: 'sim-news-mlp',
      signature,
      onnx: Buffer.from(bytes).toString('base64'),
      description: 'PyTorch-exported fixture MLP (libs/ranker/fixtures/news-mlp.onnx), uploaded by the simulator',
    });
    rankerRef = model.ref;
  }
  const key = options.experimentKey ?? `sim-${spec.world}-${randomBytes(4).toString('hex')}`;
  await client.request('POST', '/v1/experiments', {
    key,
    name: `Simulation: ${spec.world}`,
    hypothesis: spec.description,
    kind: 'ranking',
    slots: spec.slots,
    features: { context: spec.contextFeatures, item: spec.itemFeatures },
    ranker: { model: rankerRef, shortlist: spec.shortlist },
    variants: options.variants.map((v) => ({
      key: v,
      name: POLICY_LABEL[v],
      weight: 1,
      policy: policyFor(v, options.propensityDraws),
    })),
    metrics: { primary: 'reward', guardrails: [], secondary: [] },
    coldStartThreshold: spec.coldStartThreshold,
    tags: ['simulation'],
  });
  await client.request('POST', `/v1/experiments/${key}/start`);
  return key;
}

/** Catalog upserts for the items of a request not sent yet (features by name). */
async function syncCatalog(
  client: SlotwiseClient,
  spec: WorldSpec,
  reqs: WorldRequest[],
  known: Set<string>,
): Promise<void> {
  const fresh = new Map<string, Record<string, number>>();
  for (const r of reqs) {
    for (const c of r.candidates) {
      if (known.has(c.id) || fresh.has(c.id)) continue;
      fresh.set(c.id, Object.fromEntries(spec.itemFeatures.map((n, i) => [n, c.features[i]])));
    }
  }
  if (!fresh.size) return;
  await client.request(
    'POST',
    '/v1/items/batch',
    { items: [...fresh].map(([id, features]) => ({ id, features, attributes: { source: 'simulator' } })) },
    { retries: 3 },
  );
  for (const id of fresh.keys()) known.add(id);
}

export async function runSimulation(client: SlotwiseClient, world: World, options: RunOptions): Promise<RunResult> {
  const log = options.log ?? (() => undefined);
  const spec = world.spec;
  const started = Date.now();
  const experiment = await setupExperiment(client, world, options);
  log(`experiment ${experiment}: variants ${options.variants.join(', ')}`);
  const trackers = new Map(
    options.variants.map((v) => [v, new VariantTracker(v, POLICY_LABEL[v], spec.coldStartThreshold)]),
  );
  // Features travel with the candidates when they depend on the request (OBD's affinity); else the catalog serves them.
  const inlineFeatures = spec.world === 'obd';
  const known = new Set<string>();
  const announced = new Set<string>();
  let pending: PendingReward[] = [];
  let buffer: PendingReward[] = [];
  const rewards = { sent: 0, accepted: 0, rejected: 0 };
  const windowSize = Math.max(1, Math.ceil(options.decisions / options.windows));

  let sentAt = 0;
  /** Moves the rewards due by simulated time `now` to the buffer; sends full batches, or everything when `force`. */
  const sendRewards = async (now: number, force: boolean) => {
    const due = pending.filter((p) => p.due <= now);
    if (due.length) {
      pending = pending.filter((p) => p.due > now);
      buffer.push(...due);
    }
    while (buffer.length >= options.rewardBatch || (force && buffer.length)) {
      const batch = buffer.slice(0, options.rewardBatch);
      buffer = buffer.slice(batch.length);
      const res = await client.request<{ accepted: number; duplicates: number; rejected: unknown[] }>(
        'POST',
        '/v1/rewards',
        {
          rewards: batch.map((b) => ({
            decisionId: b.decisionId,
            itemId: b.itemId,
            value: 1,
            eventId: decisionItemKey(b.decisionId, b.itemId),
          })),
        },
        { retries: 3 },
      );
      rewards.sent += batch.length;
      rewards.accepted += res.accepted;
      rewards.rejected += res.rejected.length;
    }
  };

  let issued = 0;
  const minIntervalMs = options.rate > 0 ? 1000 / options.rate : 0;
  let nextSlot = Date.now();
  let lastTime = 0;
  while (issued < options.decisions) {
    const n = Math.min(options.concurrency, options.decisions - issued);
    const reqs = Array.from({ length: n }, () => world.next());
    issued += n;
    if (!inlineFeatures) await syncCatalog(client, spec, reqs, known);
    for (const r of reqs) {
      for (const [id, at] of world.arrivals) {
        if (at <= r.index && !announced.has(id)) {
          announced.add(id);
          for (const t of trackers.values()) t.itemArrived(id);
        }
      }
    }
    if (minIntervalMs > 0) {
      const wait = nextSlot - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      nextSlot = Math.max(nextSlot, Date.now()) + minIntervalMs * n;
    }
    const [truths, answers] = await Promise.all([
      Promise.all(reqs.map((r) => world.truth(r))),
      Promise.all(
        reqs.map((r) =>
          client.request<RankAnswer>('POST', '/v1/rank', {
            experiment,
            unitId: r.unitId,
            context: r.context,
            candidates: r.candidates.map((c) => (inlineFeatures ? { id: c.id, features: c.features } : { id: c.id })),
          }),
        ),
      ),
    ]);
    for (let q = 0; q < n; q++) {
      const req = reqs[q];
      const truth = truths[q];
      const answer = answers[q];
      if (!answer.variant || !answer.decisionId)
        throw new Error(`request ${req.index} was not served by a variant (${JSON.stringify(answer).slice(0, 200)})`);
      const tracker = trackers.get(answer.variant as PolicyKey);
      if (!tracker) throw new Error(`unknown variant ${answer.variant}`);
      const indexOf = new Map(req.candidates.map((c, i) => [c.id, i]));
      const chosen = answer.slots.map((s) => indexOf.get(s.itemId)!);
      const value = slateValue(truth, chosen);
      const oracle = oracleSlate(truth, spec.slots).value;
      const slots = answer.slots.map((s, j) => {
        const p = truth.clickProbability(truth.eta[chosen[j]], j);
        const clicked = req.clickUniforms[j] < p;
        if (clicked) pending.push({ due: req.time + req.lags[j], decisionId: answer.decisionId!, itemId: s.itemId });
        return { itemId: s.itemId, explored: s.explored, coldStart: s.coldStart, clicked };
      });
      const replay = req.logged
        ? {
            matched: answer.slots.some((s) => s.itemId === req.logged!.itemId && s.position === req.logged!.position),
            click: req.logged.click,
            propensity: req.logged.propensity,
          }
        : undefined;
      tracker.record({ value, oracle, slots, replay });
      lastTime = req.time;
      if ((req.index + 1) % windowSize === 0 || req.index + 1 === options.decisions)
        for (const t of trackers.values()) t.closeWindow(req.index + 1);
    }
    // Due rewards go out in batches; at least every `rewardEvery` decisions so none waits long in the buffer.
    const force = issued - sentAt >= REWARD_EVERY;
    await sendRewards(lastTime, force);
    if (force) sentAt = issued;
    if (issued % 2000 < n)
      log(`${issued}/${options.decisions} decisions, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  await sendRewards(Infinity, true);
  // The API's own exploration figures; the simulator's numbers do not depend on them, so a failing report is noted, not fatal.
  let apiExploration: unknown;
  try {
    apiExploration =
      (
        await client.request<{ exploration?: unknown }>('GET', `/v1/experiments/${experiment}/report`, undefined, {
          retries: 2,
        })
      ).exploration ?? null;
  } catch (err) {
    log(`the experiment report failed: ${(err as Error).message}`);
    apiExploration = { error: (err as Error).message };
  }
  const random = trackers.get('random');
  const randomPerDecision = random && random.decisions ? random.regret / random.decisions : null;
  return {
    world: spec,
    experiment,
    decisions: options.decisions,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    variants: [...trackers.values()].map((t) => t.summary(randomPerDecision, spec.world === 'obd')),
    apiExploration,
    rewards,
  };
}
