import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LinearModel } from '@slotwise/bandit';
import golden from './__golden__/linfullpost-tiny.json';
import { resolveWorldsDir, WORLD_ORDER } from './main';
import { buildWorldReport, checksFor, meanSd } from './report';
import { optimalShares, runPolicy } from './runner';
import { loadWorldFile, ShowdownEnv, type WorldFile } from './world';

const worldsDir = resolveWorldsDir();
const showdownDir = join(worldsDir, '..');

describe('showdown world files', () => {
  const manifest = JSON.parse(readFileSync(join(showdownDir, 'MANIFEST.json'), 'utf8')) as Record<
    string,
    { sha256: string; bytes: number }
  >;

  it('every committed data and world file matches its recorded SHA-256 and size, and every world is listed', () => {
    for (const [path, want] of Object.entries(manifest)) {
      const raw = readFileSync(join(showdownDir, path));
      expect({ path, bytes: raw.length, sha256: createHash('sha256').update(raw).digest('hex') }).toEqual({
        path,
        ...want,
      });
    }
    expect(WORLD_ORDER.map((w) => `worlds/${w}.json.gz`).filter((p) => !manifest[p])).toEqual([]);
    const total = Object.values(manifest).reduce((s, f) => s + f.bytes, 0);
    expect(total).toBeLessThan(4 * 1024 * 1024);
  });

  it.each(WORLD_ORDER)(
    '%s loads: 5 seeds, full-length draws, and the TypeScript means agree with NumPy (optimal-action shares)',
    (name) => {
      const w = loadWorldFile(join(worldsDir, `${name}.json.gz`));
      expect(w.name).toBe(name);
      expect(w.seeds.map((s) => s.seed)).toEqual([1, 2, 3, 4, 5]);
      expect(w.horizon % w.checkpoint).toBe(0);
      expect(w.source.length).toBeGreaterThan(0);
      expect(w.licence.length).toBeGreaterThan(0);
      for (const s of w.seeds) {
        for (const ref of Object.values(s.references))
          expect(ref.cumulativeRegret).toHaveLength(w.horizon / w.checkpoint);
        if (s.contexts) expect(s.contexts).toHaveLength(w.horizon);
        if (s.rowIndex) expect(s.rowIndex).toHaveLength(w.horizon);
        if (s.noise) expect(s.noise).toHaveLength(w.horizon);
      }
      // The optimal action per decision is computed from the means on both sides: equal shares = same world.
      const env = new ShowdownEnv(w, w.seeds[0]);
      const shares = optimalShares(env);
      shares.forEach((x, a) => expect(x).toBeCloseTo(w.seeds[0].optimalShare[a], 6));
    },
  );
});

/** A hand-computable world: identity link, 2 items, B0 = [[0, 1], [1, 0]] so η = f + c (f: the item's one feature). */
function tinyWorld(over: Partial<WorldFile> = {}, seed: Partial<WorldFile['seeds'][number]> = {}): WorldFile {
  const ref = {
    regret: 0,
    cumulativeRegret: [0, 0],
    exploreFirst: null,
    exploreLast: null,
    lastWindowCounts: [0, 0, 0],
  };
  return {
    name: 'tiny',
    description: 'hand-computed',
    source: 'test',
    licence: 'test',
    horizon: 4,
    slots: 1,
    positionWeights: [1],
    contextDim: 1,
    itemDim: 1,
    reward: { type: 'bilinear', link: 'identity', noiseSd: 1 },
    stationary: true,
    hasRanker: true,
    delayed: false,
    checkpoint: 2,
    seeds: [
      {
        seed: 1,
        contexts: [[0], [1], [2], [-1]],
        items: [
          { id: 'a', features: [0.5], arrival: 0, rankerScore: 2 },
          { id: 'b', features: [1], arrival: 0, rankerScore: 1 },
          { id: 'c', features: [3], arrival: 2, rankerScore: 0 },
        ],
        B0: [
          [0, 1],
          [1, 0],
        ],
        itemBias: [0, 0, 0],
        noise: [[0], [0], [0], [0]],
        optimalShare: [0, 0.5, 0.5],
        references: { linfullpost: ref, egreedy: ref, uniform: ref, lints: ref },
        ...seed,
      },
    ],
    ...over,
  };
}

describe('showdown regret bookkeeping (hand-computed)', () => {
  it('ranker greedy in a one-slot world with a late item', () => {
    // means (η = c + f): t0 a .5 b 1 → ranker shows a, regret .5; t1 a 1.5 b 2 → .5; from t2 c (f = 3) is available:
    // t2 a 2.5 b 3 c 5 → 2.5; t3 a −.5 b 0 c 2 → 2.5. Cumulative: .5, 1, 3.5, 6; checkpoints every 2: [1, 6].
    const run = runPolicy(new ShowdownEnv(tinyWorld(), tinyWorld().seeds[0]), 'ranker');
    expect(run.regret).toBeCloseTo(6, 12);
    expect(run.cumulativeRegret.map((x) => Number(x.toFixed(12)))).toEqual([1, 6]);
    expect(run.exploreFirst).toBeNull();
    // window = min(1,000, T/2) = 2 decisions: a shown twice; b (optimal at t0, t1) and c (t2, t3) abandoned.
    expect(run.lastWindowCounts).toEqual([2, 0, 0]);
    expect(run.abandoned).toEqual(['b', 'c']);
  });

  it('position-weighted slates: oracle = the best items in weight order', () => {
    // 2 slots with weights 1 and .5; ranker shows [a, b] while c is missing, then [a, b] again (c ranks last).
    // t0: best [b 1, a .5] = 1 + .25 = 1.25, shown a + .5 b = .5 + .5 = 1 → .25; t1: best 2 + .75 = 2.75, shown 1.5 + 1 = 2.5 → .25
    // t2: best c 5 + .5·3 = 6.5, shown 2.5 + 1.5 = 4 → 2.5; t3: best 2 + 0 = 2, shown −.5 + 0 → 2.5. Total 5.5.
    const w = tinyWorld(
      { slots: 2, positionWeights: [1, 0.5] },
      {
        noise: [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      },
    );
    const run = runPolicy(new ShowdownEnv(w, w.seeds[0]), 'ranker');
    expect(run.regret).toBeCloseTo(5.5, 12);
    expect(run.cumulativeRegret.map((x) => Number(x.toFixed(12)))).toEqual([0.5, 5.5]);
  });

  it('realized rewards: logistic clicks from the stored uniforms, act-skip heavy tail from its coin', () => {
    const w = tinyWorld(
      { reward: { type: 'bilinear', link: 'logistic' }, slots: 2, positionWeights: [1, 0.5] },
      {
        noise: [
          [0.32, 0.32],
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      },
    );
    const env = new ShowdownEnv(w, w.seeds[0]);
    const p = 1 / (1 + Math.exp(-0.5)); // item a at t0: σ(.5) ≈ .622
    expect(env.mean(0, 0)).toBeCloseTo(p, 15);
    expect(env.realized(0, 0, 0)).toBe(1); // .32 < .622
    expect(env.realized(0, 0, 1)).toBe(0); // .32 ≥ .5 × .622 = .311
    const heavy: WorldFile = {
      ...tinyWorld(),
      reward: { type: 'act-skip', goodClass: 1, win: 5, loss: -35, lossProbability: 0.5 },
      hasRanker: false,
      itemDim: 2,
      actions: ['act', 'skip'],
      rows: [[0], [1]],
      labels: [1, 0],
      seeds: [
        {
          ...tinyWorld().seeds[0],
          contexts: undefined,
          items: undefined,
          rowIndex: [0, 1, 1, 0],
          noise: [[0.9], [0.2], [0.7], [0.1]],
        },
      ],
    };
    const h = new ShowdownEnv(heavy, heavy.seeds[0]);
    expect([0, 1, 2, 3].map((t) => h.realized(t, 0, 0))).toEqual([5, -35, 5, 5]);
    expect([0, 1, 2, 3].map((t) => h.mean(t, 0))).toEqual([5, -15, -15, 5]);
    expect(h.realized(1, 1, 0)).toBe(0);
    // random's regret = Σ_t (best − chosen): acting on the bad class costs 15, skipping the good one 5.
    expect(h.regret(1, [0, 1], [0])).toBe(15);
    expect(h.regret(0, [0, 1], [1])).toBe(5);
  });

  it('aggregates mean ± sd and the ratio to LinFullPost, and checks the acceptance criteria', () => {
    expect(meanSd([1, 2, 3, 4])).toEqual({ mean: 2.5, sd: Math.sqrt(5 / 3) });
    const w = tinyWorld();
    w.seeds[0].references.linfullpost = {
      regret: 4,
      cumulativeRegret: [1, 4],
      exploreFirst: 0.5,
      exploreLast: 0.1,
      lastWindowCounts: [0, 1, 1],
    };
    const run = runPolicy(new ShowdownEnv(w, w.seeds[0]), 'ranker');
    const report = buildWorldReport(w, [1], 4, new Map([['ranker', [run]]]));
    const ranker = report.rows.find((r) => r.policy === 'ranker')!;
    expect(ranker.ratioToLinFullPost).toBeCloseTo(6 / 4, 12);
    expect(report.rows.find((r) => r.policy === 'numpy:linfullpost')).toMatchObject({
      regretMean: 4,
      ratioToLinFullPost: 1,
      exploreFirst: 0.5,
      exploreLast: 0.1,
    });
    // quick runs read the reference at the same horizon
    expect(buildWorldReport(w, [1], 2, new Map()).rows[0]).toMatchObject({
      policy: 'numpy:linfullpost',
      regretMean: 1,
    });
    expect(checksFor('ranker', [report]).worlds[0]).toMatchObject({ ratioOk: false, noAbandoned: false });
  });

  it('exploration per slot and its true cost: averaged over seeds; the cost check halves independently of the rate', () => {
    const w = tinyWorld({ slots: 2, positionWeights: [1, 0.5] });
    w.seeds[0].references.linfullpost = {
      regret: 4,
      cumulativeRegret: [1, 4],
      exploreFirst: 0.5,
      exploreLast: 0.1,
      lastWindowCounts: [0, 1, 1],
    };
    const base = runPolicy(new ShowdownEnv(w, w.seeds[0]), 'ranker');
    // two seeds' results of a policy with a posterior: the rate falls 0.4 → 0.3 (not halved), the cost 0.2 → 0.05
    const a = {
      ...base,
      policy: 'thompson-linear' as const,
      exploreFirst: 0.4,
      exploreLast: 0.3,
      exploreBySlot: { first: [0.2, 0.6], last: [0.1, 0.5], costFirst: 0.3, costLast: 0.04 },
    };
    const b = { ...a, exploreBySlot: { first: [0.2, 0.6], last: [0.1, 0.5], costFirst: 0.1, costLast: 0.06 } };
    const report = buildWorldReport(w, [1], 4, new Map([['thompson-linear', [a, b]]]));
    const row = report.rows.find((r) => r.policy === 'thompson-linear')!;
    expect(row.exploreBySlot).toEqual({ first: [0.2, 0.6], last: [0.1, 0.5], costFirst: 0.2, costLast: 0.05 });
    expect(checksFor('thompson-linear', [report]).worlds[0]).toMatchObject({
      explorationFalls: false,
      explorationCostFalls: true,
    });
    // policies without a posterior have neither
    expect(base.exploreBySlot).toBeNull();
  });

  it('delayed rewards reach the model before decision t + 1 + lag; until then the slot counts with reward 0', () => {
    // lags [1, 0, 5, 0]: the rewards of decisions 0 and 1 arrive before decision 2; those of 2 and 3 after the horizon.
    const w = tinyWorld({}, { lags: [1, 0, 5, 0] });
    const env = new ShowdownEnv(w, w.seeds[0]);
    const seen: { n: number; yy: number }[] = [];
    const run = runPolicy(env, 'thompson-linear', {
      decisionSeed: 3,
      record: true,
      inspect: (_t, model) => seen.push(model!.snapshot().stats as { n: number; yy: number }),
    });
    const item = (t: number) => ['a', 'b', 'c'].indexOf(run.chosen![t][0]);
    const r = [0, 1].map((t) => env.mean(t, item(t))); // identity link, zero noise: reward = mean
    expect(seen.map((s) => s.n)).toEqual([0, 1, 2, 3]);
    expect(seen[0].yy).toBe(0);
    expect(seen[1].yy).toBe(0);
    expect(seen[2].yy).toBeCloseTo(r[0] ** 2 + r[1] ** 2, 12);
    expect(seen[3].yy).toBeCloseTo(seen[2].yy, 12);
  });
});

describe('golden: NumPy LinFullPost (per-action NIG) = libs/bandit LinearModel on x = [1, context]', () => {
  it('posterior counts, means and score sds at 1e-9', () => {
    const models = golden.posterior.map(
      () =>
        new LinearModel({
          lambda: golden.lambda,
          a0: golden.a0,
          b0: golden.b0,
          features: { kind: 'concat', contextDim: 2, itemDim: 0 },
        }),
    );
    for (const o of golden.observations) models[o.action].observe(o.context, { id: 'x' }, o.reward);
    golden.posterior.forEach((want, a) => {
      expect(models[a].observations()).toBe(want.n);
      golden.probes.forEach((probe, k) => {
        const scorer = models[a].prepare(probe, [{ id: 'x' }]);
        expect(Math.abs(scorer.mean[0] - want.probeMeans[k])).toBeLessThan(1e-9);
        expect(Math.abs(scorer.sdOf(0) - want.probeSd[k])).toBeLessThan(1e-9);
      });
    });
  });
});

describe('regression: the OBD replay abandoned item-17 (the same 5 item features as item-03 and item-21)', () => {
  it('thompson-linear without the per-item term never shows it in the last 1,000 decisions of seed 4 (seeds 4 and 5 since the position-model fixes of session 8; 1 and 4 before them; 2 before the own-ridge noise scale); with the default (the term for feature twins) it does', () => {
    const w = loadWorldFile(join(worldsDir, 'obd.json.gz'));
    const env = new ShowdownEnv(
      w,
      w.seeds.find((s) => s.seed === 4)!,
    );
    const twins = ['item-03', 'item-17', 'item-21'].map((id) => env.items.find((it) => it.id === id)!.features);
    expect(twins[1]).toEqual(twins[0]);
    expect(twins[2]).toEqual(twins[0]);
    const before = runPolicy(env, 'thompson-linear', { modelOptions: { itemEffect: 'none' } });
    expect(before.abandoned).toEqual(['item-17']);
    const after = runPolicy(env, 'thompson-linear', {}); // default itemEffect 'twins'
    expect(after.abandoned).toEqual([]);
    expect(after.lastWindowCounts[env.items.findIndex((it) => it.id === 'item-17')]).toBeGreaterThan(0);
  }, 300_000);
});
