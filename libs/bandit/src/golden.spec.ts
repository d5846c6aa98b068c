/**
 * Golden tests against tools/bandit/gen_golden.py (NumPy/SciPy, run with /usr/bin/python3). The Python side uses a
 * port of our RNG, so both sides consume the SAME gamma/normal variates and drawn values must agree to 1e-9.
 */
import rngGolden from './__golden__/rng.json';
import linalgGolden from './__golden__/linalg.json';
import linearGolden from './__golden__/linear.json';
import hybridGolden from './__golden__/hybrid.json';
import { Rng } from './rng';
import {
  backSolve,
  backSolveTransposed,
  cholSolve,
  cholUpdate,
  cholesky,
  forwardSolve,
  matvec,
  mvnFromPrecision,
  mvnSamplePrecision,
} from './linalg';
import { LinearModel, type LinearSnapshot } from './models/linear';
import { HybridModel } from './models/hybrid';
import type { NoiseModel } from './models/nig';
import { ThompsonPolicy } from './policies/thompson';
import type { Candidate } from './types';
import { expectClose, expectScalar } from './testing';

describe('golden: RNG', () => {
  it('reproduces the reference xoshiro128** vector', () => {
    const r = Rng.fromState({ s: rngGolden.reference.state as [number, number, number, number], spare: null });
    expect([0, 1, 2, 3].map(() => r.nextUint32())).toEqual(rngGolden.reference.uint32);
  });

  it.each(rngGolden.cases.map((c) => [String(c.seed), c] as const))(
    'seed %s: first outputs match the Python port',
    (_name, c) => {
      const seed = c.seed as number | string;
      let r = new Rng(seed);
      expect(Array.from({ length: 16 }, () => r.nextUint32())).toEqual(c.uint32);
      r = new Rng(seed);
      expect(Array.from({ length: 8 }, () => r.uniform())).toEqual(c.uniform); // exact: integer arithmetic
      r = new Rng(seed);
      expectClose(
        Array.from({ length: 9 }, () => r.normal()),
        c.normal,
        1e-13,
        'normal',
      );
      r = new Rng(seed);
      for (const [shape, values] of Object.entries(c.gammaScale2)) {
        expectClose(
          values.map(() => r.gamma(Number(shape), 2)),
          values,
          1e-12,
          `gamma(${shape})`,
        );
      }
      r = new Rng(seed);
      expectClose(
        c.beta_2_5.map(() => r.beta(2, 5)),
        c.beta_2_5,
        1e-12,
        'beta',
      );
      const child = new Rng(seed).split();
      expect([0, 1, 2, 3].map(() => child.nextUint32())).toEqual(c.splitChildUint32);
    },
  );

  it.each(rngGolden.cases.map((c) => [String(c.seed), c] as const))(
    'seed %s: a Ziggurat child stream matches the Python port exactly (bulk and single)',
    (_name, c) => {
      const seed = c.seed as number | string;
      // 400 normals reach the rare slow paths (wedges, ~1 %); the Python port uses the same tables (ziggurat-tables.ts)
      const bulk = new Rng(seed).split('ziggurat');
      expect(Array.from(bulk.normals(new Float64Array(400)))).toEqual(c.zigguratChild.normal);
      const single = new Rng(seed).split('ziggurat');
      expect(Array.from({ length: 400 }, () => single.normal())).toEqual(c.zigguratChild.normal);
      expect(single.getState()).toEqual(bulk.getState());
      expectClose(
        c.zigguratChild.gamma1006.map(() => bulk.gamma(1006, 1)),
        c.zigguratChild.gamma1006,
        1e-12,
        'gamma on the Ziggurat stream',
      );
    },
  );
});

describe('golden: linear algebra', () => {
  const g = linalgGolden;
  const d = g.d;
  it('cholesky', () => expectClose(cholesky(g.A, d), g.L, 1e-12, 'L'));
  it('rank-one update', () => {
    const L = Float64Array.from(g.L);
    const x = Float64Array.from(g.x);
    cholUpdate(L, x, d);
    expectClose(L, g.L_update, 1e-12, 'L_update');
    expect(Array.from(x)).toEqual(g.x); // input untouched
  });
  it('a sequence of rank-one updates', () => {
    const L = Float64Array.from(g.L);
    for (const v of g.updates) cholUpdate(L, v, d);
    expectClose(L, g.L_updates, 1e-11, 'L_updates');
  });
  it('triangular solves, cholSolve, matvec', () => {
    expectClose(forwardSolve(g.L, g.b, d), g.forward, 1e-12, 'forward');
    expectClose(backSolveTransposed(g.L, g.b, d), g.backTransposed, 1e-12, 'backT');
    expectClose(backSolve(g.U, g.b, d), g.backUpper, 1e-12, 'backUpper');
    expectClose(cholSolve(g.L, g.b, d), g.cholSolve, 1e-12, 'cholSolve');
    expectClose(matvec(g.A, g.b, d), g.matvec, 1e-12, 'matvec');
    expectClose(matvec(g.rect.A, g.rect.x, g.rect.rows, g.rect.cols), g.rect.y, 1e-12, 'rect');
  });
  it('multivariate normal draw from mean and precision factor', () => {
    expectClose(mvnFromPrecision(g.mvn.mean, g.L, g.mvn.z, d, g.mvn.scale), g.mvn.draw, 1e-12, 'mvn');
    // RNG-driven form consumes d normals
    const r = new Rng('mvn');
    const z = Array.from({ length: d }, () => r.normal());
    expectClose(
      mvnSamplePrecision(g.mvn.mean, g.L, d, new Rng('mvn'), g.mvn.scale),
      mvnFromPrecision(g.mvn.mean, g.L, z, d, g.mvn.scale),
      1e-15,
    );
  });
});

type Ev = {
  op: string;
  context?: number[];
  item?: number[];
  id?: string;
  reward?: number;
  ref?: number;
  oldReward?: number;
  newReward?: number;
};

function replay(
  events: Ev[],
  apply: {
    observe(ctx: number[], c: Candidate, r: number, t: number): void;
    correct(ctx: number[], c: Candidate, o: number, n: number, t: number): void;
  },
): void {
  const obs: Ev[] = [];
  for (const e of events) {
    if (e.op === 'observe') {
      apply.observe(e.context as number[], { id: e.id as string, features: e.item }, e.reward as number, obs.length);
      obs.push(e);
    } else {
      const o = obs[e.ref as number];
      apply.correct(
        o.context as number[],
        { id: o.id as string, features: o.item },
        e.oldReward as number,
        e.newReward as number,
        e.ref as number,
      );
    }
  }
}

describe('golden: linear (NIG) model', () => {
  const g = { ...linearGolden, config: linearGolden.config as typeof linearGolden.config & { noise?: NoiseModel } };
  const build = (): LinearModel => {
    const m = LinearModel.create({ ...g.config, featureMap: 'concat', itemEffect: 'none' });
    replay(g.events as Ev[], {
      observe: (c, cand, r) => m.observe(c, cand, r),
      correct: (c, cand, o, n) => m.correct(c, cand, o, n),
    });
    return m;
  };

  function checkPosterior(m: LinearModel): void {
    const p = m.posterior();
    expectClose(p.precision, g.posterior.precision, 1e-12, 'Λn');
    expectClose(p.cholesky, g.posterior.cholesky, 1e-10, 'chol Λn');
    expectClose(p.mean, g.posterior.mean, 1e-9, 'μn');
    expectScalar(p.an, g.posterior.an, 1e-15, 'an');
    expectScalar(p.bn, g.posterior.bn, 1e-9, 'bn');
    expect(p.n).toBe(g.posterior.n);
  }

  it('online observe(reward 0) + corrections equals the batch NIG posterior (μn, Λn, an, bn)', () => {
    const m = build();
    checkPosterior(m);
    const s = m.snapshot().stats;
    expectClose(s.xx, g.posterior.xx, 1e-12, 'XᵀX');
    expectClose(s.xy, g.posterior.xy, 1e-12, 'Xᵀy');
    expectScalar(s.yy, g.posterior.yy, 1e-12, 'yᵀy');
  });

  it('from a snapshot (full refactorisation) too', () => {
    checkPosterior(LinearModel.fromSnapshot(JSON.parse(JSON.stringify(build().snapshot())) as LinearSnapshot));
  });

  it('replicas: deltas from two replicas merge into the same posterior', () => {
    const base = LinearModel.create({ ...g.config, featureMap: 'concat', itemEffect: 'none' });
    const r1 = LinearModel.fromSnapshot(base.snapshot());
    const r2 = LinearModel.fromSnapshot(base.snapshot());
    // observations alternate between replicas; each correction happens on the OTHER replica
    replay(g.events as Ev[], {
      observe: (c, cand, r, t) => (t % 2 ? r1 : r2).observe(c, cand, r),
      correct: (c, cand, o, n, t) => (t % 2 ? r2 : r1).correct(c, cand, o, n),
    });
    const merged = LinearModel.fromSnapshot(base.snapshot());
    merged.mergeDelta(JSON.parse(JSON.stringify(r1.takeDelta())));
    merged.mergeDelta(JSON.parse(JSON.stringify(r2.takeDelta())));
    checkPosterior(merged);
  });

  it('coefficient draw with the same variates as NumPy', () => {
    const m = build();
    expectClose(
      m.coefficientsFromVariates(g.coefficientDraw.gamma, g.coefficientDraw.normals),
      g.coefficientDraw.beta,
      1e-9,
      'β from variates',
    );
    const r = new Rng(g.coefficientDraw.seed);
    expectScalar(r.gamma(m.an(), 1), g.coefficientDraw.gamma, 1e-12, 'gamma variate');
    expectClose(
      Array.from({ length: g.d }, () => r.normal()),
      g.coefficientDraw.normals,
      1e-12,
      'normal variates',
    );
    expectClose(m.sampleCoefficients(new Rng(g.coefficientDraw.seed)), g.coefficientDraw.beta, 1e-9, 'β from seed');
  });

  it('request with per-item noise (the default): covariance D S D, sd, drawn and re-drawn scores scaled per item', () => {
    const m = build();
    const q = g.request;
    const it = q.itemNoise;
    const sc = m.prepare(q.context, q.candidates);
    expectClose(m.noiseScales(q.candidates) as Float64Array, it.noiseScale, 1e-12, 'c');
    expectClose(sc.mean, q.mean, 1e-9, 'mean');
    expectClose((sc.covariance as () => Float64Array)(), it.covariance, 1e-9, 'S');
    expectClose(
      q.candidates.map((_, i) => sc.sdOf(i)),
      it.sd,
      1e-9,
      'sd',
    );
    expectClose(sc.draw(new Rng(q.decision.seed)), it.drawn, 1e-9, 'drawn');
    const out = new Float64Array(q.candidates.length);
    sc.redraw(new Rng(q.redraw.seed), out);
    expectClose(out, it.redrawn, 1e-9, 'redrawn');
  });

  it('request with pooled noise (snapshots from before per-item noise): posterior mean, score covariance, sd, drawn scores, re-drawn scores', () => {
    // an old snapshot: no `noise` in the config, no per-item sums
    const old = build().snapshot();
    delete old.config.noise;
    delete old.stats.items;
    const m = LinearModel.fromSnapshot(JSON.parse(JSON.stringify(old)) as LinearSnapshot);
    expect(m.noiseScales(g.request.candidates)).toBeNull();
    const q = g.request;
    const sc = m.prepare(q.context, q.candidates);
    expectClose(sc.mean, q.mean, 1e-9, 'mean');
    expectClose((sc.covariance as () => Float64Array)(), q.covariance, 1e-9, 'S');
    expectClose(
      q.candidates.map((_, i) => sc.sdOf(i)),
      q.sd,
      1e-9,
      'sd',
    );
    expectClose(sc.draw(new Rng(q.decision.seed)), q.decision.scores, 1e-9, 'drawn');
    const out = new Float64Array(q.candidates.length);
    sc.redraw(new Rng(q.redraw.seed), out);
    expectClose(out, q.redraw.scores, 1e-9, 'redrawn');
    const dec = new ThompsonPolicy(m).decide(
      { context: q.context, candidates: q.candidates, slots: 3, propensityDraws: 0 },
      new Rng(q.decision.seed),
    );
    for (const s of dec.slots) expectScalar(s.score as number, q.decision.scores[s.index], 1e-9, 'slot score');
  });
});

describe('golden: hybrid model (Li et al. 2010, Thompson form)', () => {
  const g = { ...hybridGolden, config: hybridGolden.config as typeof hybridGolden.config & { noise: NoiseModel } };
  const build = (): HybridModel => {
    const m = HybridModel.create(g.config);
    replay(g.events as Ev[], {
      observe: (c, cand, r) => m.observe(c, cand, r),
      correct: (c, cand, o, n) => m.correct(c, cand, o, n),
    });
    return m;
  };

  function checkPosterior(m: HybridModel): void {
    const p = m.posterior();
    expectClose(p.A0, g.posterior.A0, 1e-9, 'A0');
    expectClose(p.b0, g.posterior.b0, 1e-9, 'b0');
    expectClose(p.beta, g.posterior.beta, 1e-9, 'β̂');
    expectScalar(p.an, g.posterior.an, 1e-15, 'an');
    expectScalar(p.bn, g.posterior.bn, 1e-9, 'bn');
    expect(p.n).toBe(g.posterior.n);
    for (const [id, it] of Object.entries(g.posterior.items)) {
      const q = m.itemPosterior(id);
      expectClose(q.A, it.A, 1e-12, `A_${id}`);
      expectClose(q.B, it.B, 1e-12, `B_${id}`);
      expectClose(q.b, it.b, 1e-12, `b_${id}`);
      expectClose(q.theta, it.theta, 1e-9, `θ_${id}`);
      expect(m.observations(id)).toBe(it.n);
    }
  }

  it('online (rank-one A0 updates, default reward accounting, corrections) equals the batch joint posterior', () =>
    checkPosterior(build()));

  it('from a snapshot (rebuild from raw statistics) too', () =>
    checkPosterior(HybridModel.fromSnapshot(JSON.parse(JSON.stringify(build().snapshot())))));

  it('replicas: merged deltas equal the batch posterior; rebase keeps the pending delta', () => {
    const r1 = HybridModel.create(g.config);
    const r2 = HybridModel.create(g.config);
    replay(g.events as Ev[], {
      observe: (c, cand, r, t) => (t % 3 ? r1 : r2).observe(c, cand, r),
      correct: (c, cand, o, n, t) => (t % 3 ? r2 : r1).correct(c, cand, o, n),
    });
    const d2 = r2.takeDelta();
    r1.mergeDelta(JSON.parse(JSON.stringify(d2)));
    checkPosterior(r1);
    // r2 rebases on the database's sum (its own flushed delta + r1's delta); nothing is pending on r2 now
    const db = HybridModel.create(g.config);
    db.mergeDelta(d2);
    db.mergeDelta(r1.peekDelta());
    r2.rebase(db.snapshot());
    checkPosterior(r2);
  });

  it('request: mean, covariance and sd of the scores (incl. an unseen item) match the joint posterior', () => {
    const m = build();
    const q = g.request;
    const sc = m.prepare(q.context, q.candidates);
    expectClose(sc.mean, q.mean, 1e-9, 'mean');
    expectClose((sc.covariance as () => Float64Array)(), q.covariance, 1e-9, 'S');
    expectClose(
      q.candidates.map((_, i) => sc.sdOf(i)),
      q.sd,
      1e-9,
      'sd',
    );
    // the same posterior with pooled noise (a snapshot whose config has no `noise`): S and sd unscaled
    const old = m.snapshot();
    delete old.config.noise;
    const pooled = HybridModel.fromSnapshot(JSON.parse(JSON.stringify(old)));
    const sp = pooled.prepare(q.context, q.candidates);
    expectClose(sp.mean, q.mean, 1e-9, 'mean (pooled)');
    expectClose((sp.covariance as () => Float64Array)(), q.covariancePooled, 1e-9, 'S (pooled)');
    expectClose(
      q.candidates.map((_, i) => sp.sdOf(i)),
      q.sdPooled,
      1e-9,
      'sd (pooled)',
    );
    expectClose(sp.draw(new Rng(q.decision.seed)), q.decision.scoresPooled, 1e-9, 'drawn (pooled)');
  });

  it('canonical draw: β from the shared posterior, then θ_a | β, with the same variates as NumPy', () => {
    const m = build();
    const d = g.request.decision;
    const ids = g.request.candidates.map((c) => c.id);
    const p = m.parametersFromVariates(d.gamma, d.normals0, ids, d.normalsItems);
    expectClose(p.beta, d.beta, 1e-9, 'β');
    p.theta.forEach((t, a) => expectClose(t, d.theta[a], 1e-9, `θ_${ids[a]}`));
    const sc = m.prepare(g.request.context, g.request.candidates);
    expectClose(sc.draw(new Rng(d.seed)), d.scores, 1e-9, 'drawn scores');
    const out = new Float64Array(ids.length);
    sc.redraw(new Rng(g.request.redraw.seed), out);
    expectClose(out, g.request.redraw.scores, 1e-9, 'redrawn scores');
  });

  it('a whole decision replays exactly: slots, greedy, explored, scores and Monte-Carlo propensities', () => {
    const m = build();
    const d = g.request.decision;
    const dec = new ThompsonPolicy(m).decide(
      {
        context: g.request.context,
        candidates: g.request.candidates,
        slots: d.slots,
        propensityDraws: d.propensityDraws,
      },
      new Rng(d.seed),
    );
    expect(dec.slots.map((s) => s.index)).toEqual(d.chosen);
    expect(dec.slots.map((s) => s.greedyIndex)).toEqual(d.greedy);
    expect(dec.slots.map((s) => s.explored)).toEqual(d.chosen.map((c, j) => c !== d.greedy[j]));
    dec.slots.forEach((s, j) => {
      expectScalar(s.score as number, d.scores[s.index], 1e-9, 'score');
      expectScalar(s.mean as number, g.request.mean[s.index], 1e-9, 'mean');
      expectScalar(s.sd as number, g.request.sd[s.index], 1e-9, 'sd');
      expectScalar(s.propensity as number, d.propensities[j], 1e-12, 'propensity');
    });
  });
});
