import { FeatureQueueWorker } from '../apps/api/src/modules/features';
import { startTestApp, TestApp } from '../test/support/test-app';

/**
 * Feature store costs (docs/feature-store.md), each against a baseline measured in the same process, on the same
 * app, interleaved with it (the dev machine is shared and its load drifts, so only same-run ratios mean anything):
 * - events: after 5 feature definitions read metric `click` (sliding 20 min / 1 h / 7 d, two half-lives), rounds of
 *   4 concurrent `POST /v1/events` batches of 1,000 `view` events (no feature reads `view`: the plain insert) and
 *   then 4 of `click` events (insert + their feature-queue entries in one statement; the queue worker folds them into
 *   the state in the background, interleaved with both kinds of rounds), same units and timestamps.
 *   Figures: eventsPerSecondWithout, eventsPerSecondWith5Features, eventsRatio (target ≥ 0.8: the request path);
 *   eventsPerSecondWith5FeaturesApplied / eventsRatioApplied: with the time to drain the queue after each round
 *   added (the sustained rate, state applied).
 * - rank: ranker-greedy over 50 inline candidates, one request at a time, alternating between an experiment whose
 *   10 context features are sent inline and one whose 10 context features are stored unit features.
 *   Figures: rankP50MsInline, rankP50MsStored, rankAddedMs (target ≤ 1).
 */
export async function benchFeatures(): Promise<Record<string, number>> {
  const t = await startTestApp();
  try {
    const events = Number(process.env.BENCH_FEATURE_EVENTS ?? 20_000);
    const out: Record<string, number> = { events };
    const batchSize = 1_000;
    const inFlight = 4;
    const base = Date.now() - 600_000;
    const batch = (metric: string, b: number) =>
      JSON.stringify({
        events: Array.from({ length: batchSize }, (_, j) => {
          const i = b * batchSize + j;
          return {
            eventId: `fb-${metric}-${i}`,
            unitId: `u-${i % 5_000}`,
            metric,
            value: (i % 13) / 3,
            timestamp: new Date(base + (i % 600_000)).toISOString(),
          };
        }),
      });
    const post = async (raw: string) => {
      const res = await t.call('POST', '/v1/events', { rawBody: raw });
      if (res.status !== 200) throw new Error(`events bench batch failed: ${res.status} ${res.text.slice(0, 200)}`);
    };
    // Both metrics known before the features are defined (a feature's metric must be known).
    await post(batch('view', -1));
    await post(batch('click', -1));
    const windows = [
      { type: 'sliding', seconds: 1200 },
      { type: 'sliding', seconds: 3600 },
      { type: 'sliding', seconds: 604800 },
      { type: 'decay', halfLifeSeconds: 600 },
      { type: 'decay', halfLifeSeconds: 86400 },
    ];
    const aggregations = ['count', 'sum', 'mean', 'last', 'rate'];
    for (let i = 0; i < 5; i++)
      await define(t, {
        name: `unit.bench_${i}`,
        entity: 'unit',
        source: { type: 'event', metric: 'click' },
        aggregation: aggregations[i],
        window: windows[i],
      });
    // The feature state is applied after the 2xx by the queue worker. After each `click` round the queue is drained
    // (timed apart), so the worker's work never lands in the next `view` round: `click` seconds are the request path
    // (plus whatever the worker did meanwhile), `apply` seconds what was left to fold in after the last answer.
    const queue = t.running.app.get(FeatureQueueWorker);
    const seconds: Record<string, number> = { view: 0, click: 0, apply: 0 };
    const eventRounds = Math.ceil(events / (batchSize * inFlight));
    for (let r = -1; r < eventRounds; r++) {
      for (const metric of ['view', 'click']) {
        const bodies = Array.from({ length: inFlight }, (_, k) => batch(metric, r < 0 ? -2 - k : r * inFlight + k));
        const started = process.hrtime.bigint();
        await Promise.all(bodies.map(post));
        if (r >= 0) seconds[metric] += Number(process.hrtime.bigint() - started) / 1e9; // round -1 warms up
        if (metric === 'click') {
          const applyStarted = process.hrtime.bigint();
          await queue.drain();
          if (r >= 0) seconds.apply += Number(process.hrtime.bigint() - applyStarted) / 1e9;
        }
      }
    }
    const measured = eventRounds * inFlight * batchSize;
    out.eventsPerSecondWithout = Math.round(measured / seconds.view);
    out.eventsPerSecondWith5Features = Math.round(measured / seconds.click);
    out.eventsRatio = Math.round((out.eventsPerSecondWith5Features / out.eventsPerSecondWithout) * 1000) / 1000;
    // Sustained: the request path and the state's application together (what the machine can keep up with).
    out.eventsPerSecondWith5FeaturesApplied = Math.round(measured / (seconds.click + seconds.apply));
    out.eventsRatioApplied =
      Math.round((out.eventsPerSecondWith5FeaturesApplied / out.eventsPerSecondWithout) * 1000) / 1000;

    for (let i = 5; i < 10; i++)
      await define(t, {
        name: `unit.bench_${i}`,
        entity: 'unit',
        source: { type: 'event', metric: 'click' },
        aggregation: 'timeSinceLast',
        window: windows[i - 5],
      });
    const stored = Array.from({ length: 10 }, (_, i) => `unit.bench_${i}`);
    const inline = Array.from({ length: 10 }, (_, i) => `c${i}`);
    for (const [key, context] of [
      ['bench-inline', inline],
      ['bench-stored', stored],
    ] as const) {
      const body = {
        key,
        name: key,
        kind: 'ranking',
        slots: 5,
        features: { context, item: ['price'] },
        variants: [
          { key: 'greedy', weight: 1, policy: { type: 'ranker' } },
          { key: 'greedy2', weight: 1, policy: { type: 'ranker' } },
        ],
        metrics: { primary: 'reward' },
      };
      if ((await t.call('POST', '/v1/experiments', { body })).status !== 201) throw new Error(`cannot create ${key}`);
      await t.call('POST', `/v1/experiments/${key}/start`);
    }
    const candidates = Array.from({ length: 50 }, (_, i) => ({ id: `item-${i}`, features: { price: i / 50 } }));
    const request = (experiment: string, u: number) =>
      JSON.stringify({
        experiment,
        unitId: `u-${u % 5_000}`,
        context: experiment === 'bench-inline' ? Object.fromEntries(inline.map((n, i) => [n, i])) : {},
        candidates,
      });
    const rounds = Number(process.env.BENCH_FEATURE_RANKS ?? 500);
    const times: Record<string, number[]> = { 'bench-inline': [], 'bench-stored': [] };
    for (let r = -50; r < rounds; r++) {
      for (const experiment of ['bench-inline', 'bench-stored']) {
        const started = process.hrtime.bigint();
        const res = await t.call('POST', '/v1/rank', { rawBody: request(experiment, r + 50) });
        if (res.status !== 200) throw new Error(`rank bench failed: ${res.status} ${res.text.slice(0, 200)}`);
        if (r >= 0) times[experiment].push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }
    out.rankP50MsInline = round3(median(times['bench-inline']));
    out.rankP50MsStored = round3(median(times['bench-stored']));
    out.rankAddedMs = round3(out.rankP50MsStored - out.rankP50MsInline);
    return out;
  } finally {
    await t.close(true);
  }
}

async function define(t: TestApp, body: unknown): Promise<void> {
  const res = await t.call('POST', '/v1/features', { body });
  if (res.status !== 201) throw new Error(`cannot define a feature: ${res.status} ${res.text.slice(0, 200)}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
