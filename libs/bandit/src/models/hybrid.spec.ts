import { Rng } from '../rng';
import { expectClose } from '../testing';
import { HybridModel } from './hybrid';

const vec = (r: Rng, k: number): number[] => Array.from({ length: k }, () => r.normal());

function trained(seed = 1): { m: HybridModel; feats: Record<string, number[]> } {
  const r = new Rng(seed);
  const m = HybridModel.create({ contextDim: 2, itemDim: 2 });
  const feats: Record<string, number[]> = {};
  for (let i = 0; i < 8; i++) feats[`i${i}`] = vec(r, 2);
  feats.special = [0, 0];
  for (let t = 0; t < 600; t++) {
    const id = t % 10 === 0 ? 'special' : `i${r.int(8)}`;
    const c = vec(r, 2);
    const f = feats[id];
    // shared effect: item feature 0 is good, context[0] × feature 1 interaction; 'special' has its own bonus
    const y = 1.0 * f[0] + 0.5 * c[0] * f[1] + (id === 'special' ? 1.5 : 0) + 0.2 * r.normal();
    m.observe(c, { id, features: f }); // default reward accounting
    m.correct(c, { id, features: f }, 0, y);
  }
  return { m, feats };
}

describe('HybridModel', () => {
  it('the pending ZᵀZ kept per (item, features) group equals the sum of z zᵀ (features changing under one id included)', () => {
    const r = new Rng(21);
    const m = HybridModel.create({ contextDim: 2, itemDim: 3 });
    const dz = 3 * 3;
    const direct = new Float64Array(dz * dz);
    const feats: Record<string, number[][]> = {
      a: [[1, -0.5, 2]],
      b: [
        [0.3, 0, 1],
        [0.4, 0, 1],
      ],
    };
    for (let t = 0; t < 60; t++) {
      const id = t % 3 === 0 ? 'a' : 'b';
      const f = feats[id][t % feats[id].length];
      const ctx = [r.normal(), r.normal()];
      m.observe(ctx, { id, features: f }, r.uniform());
      const x = [1, ...ctx];
      const z = x.flatMap((xa) => f.map((fb) => xa * fb));
      for (let i = 0; i < dz; i++) for (let j = 0; j < dz; j++) direct[i * dz + j] += z[i] * z[j];
    }
    m.observe([0.2, 0.1], { id: 'featureless' }, 1);
    const zz = m.peekDelta().stats.zz;
    expect(zz).toHaveLength(dz * dz);
    for (let i = 0; i < dz * dz; i++) expect(zz[i]).toBeCloseTo(direct[i], 10);
    // reading settles the groups once: a second read, and the snapshot, see the same sums
    expect(m.peekDelta().stats.zz).toEqual(zz);
    expect(m.takeDelta().stats.zz).toEqual(zz);
    expect(m.peekDelta().stats.zz.every((v) => v === 0)).toBe(true);
  });

  it('redrawMany gives bit-identical draws and leaves the generator where as many redraw() calls would', () => {
    const { m, feats } = trained();
    const cands = [
      ...Object.entries(feats).map(([id, features]) => ({ id, features })),
      { id: 'unseen', features: [0.3, -1] },
    ];
    const sc = m.prepare([0.1, 0.7], cands);
    const n = cands.length;
    for (const count of [1, 2, 7]) {
      const one = new Rng(`many-${count}`);
      const many = new Rng(`many-${count}`);
      const block = new Float64Array(count * n);
      sc.redrawMany!(many, count, block);
      const single = new Float64Array(n);
      for (let t = 0; t < count; t++) {
        sc.redraw(one, single);
        expect(Array.from(block.subarray(t * n, (t + 1) * n))).toEqual(Array.from(single));
      }
      expect(many.getState()).toEqual(one.getState());
    }
  });

  it('cold start: an unseen item is scored by the shared part zᵀβ̂ (borrowing from its features)', () => {
    const { m } = trained();
    const ctx = [0.5, -0.2];
    const good = { id: 'new-good', features: [1.5, 0] },
      bad = { id: 'new-bad', features: [-1.5, 0] };
    const sc = m.prepare(ctx, [good, bad]);
    const beta = m.posterior().beta;
    const z = m.encodeShared(m.encodeContext(ctx), good);
    expect(sc.mean[0]).toBeCloseTo(
      z.reduce((s, v, i) => s + v * beta[i], 0),
      12,
    );
    expect(sc.mean[0]).toBeGreaterThan(1);
    expect(sc.mean[1]).toBeLessThan(-1);
    expect(m.observations('new-good')).toBe(0);
  });

  it('a snapshot from before per-item noise (no noise, itemLambda or per-item yy) loads with the original prior', () => {
    const { m } = trained();
    const s = m.snapshot();
    expect(s.config).toMatchObject({ noise: 'item', itemLambda: 30 });
    expect(s.stats.items.special.yy).toBeGreaterThan(0);
    delete s.config.noise;
    delete s.config.itemLambda;
    for (const it of Object.values(s.stats.items)) delete it.yy;
    const old = HybridModel.fromSnapshot(JSON.parse(JSON.stringify(s)));
    expect(old.itemLambda).toBe(0.25);
    expect(old.itemPosterior('new').A).toEqual(Float64Array.of(0.25, 0, 0, 0, 0.25, 0, 0, 0, 0.25));
    old.observe([0.1, 0.2], { id: 'special', features: [0, 0] }, 1);
    expect(old.peekDelta().stats.items.special.yy).toBeUndefined(); // old configs keep the old statistics layout
    // the same state under the new config scales each item's score by its own noise; unseen items are unscaled
    const cands = [
      { id: 'special', features: [0, 0] },
      { id: 'unseen', features: [0.5, 0.5] },
    ];
    const pooled = HybridModel.fromSnapshot({ ...m.snapshot(), config: { ...m.snapshot().config, noise: 'pooled' } });
    const a = m.prepare([0.3, -0.2], cands),
      b = pooled.prepare([0.3, -0.2], cands);
    expect(a.sdOf(1)).toBeCloseTo(b.sdOf(1), 12);
    expect(a.sdOf(0)).not.toBeCloseTo(b.sdOf(0), 6);
  });

  it('known items get their own correction θ_a on top of the shared part', () => {
    const { m } = trained();
    const sc = m.prepare(
      [0, 0],
      [
        { id: 'special', features: [0, 0] },
        { id: 'clone', features: [0, 0] },
      ],
    );
    // the +1.5 bonus over 60 observations, shrunk by the per-item prior precision itemLambda = 10·d_x = 30
    expect(sc.mean[0]).toBeGreaterThan(0.9);
    expect(Math.abs(sc.mean[1])).toBeLessThan(0.3);
    expect(sc.sdOf(0)).toBeLessThan(sc.sdOf(1)); // the known item is less uncertain
    const ex = m.explain(
      [0, 0],
      { id: 'special', features: [0, 0] },
      { context: ['age', 'hour'], item: ['price', 'len'] },
    );
    expect(ex[0].feature).toBe('item-bias');
  });

  it('canonical draws (β then θ_a | β) and score-space re-draws agree in mean and variance', () => {
    const { m, feats } = trained(2);
    const cands = [
      { id: 'i1', features: feats.i1 },
      { id: 'new', features: [0.3, 0.1] },
      { id: 'special', features: [0, 0] },
    ];
    const sc = m.prepare([0.2, 0.4], cands);
    const N = 20000;
    const n = cands.length;
    const s1 = new Float64Array(n),
      s2 = new Float64Array(n),
      q1 = new Float64Array(n),
      q2 = new Float64Array(n);
    const c12 = [0, 0];
    const out = new Float64Array(n);
    const ra = new Rng(1),
      rb = new Rng(2);
    for (let t = 0; t < N; t++) {
      const a = sc.draw(ra);
      sc.redraw(rb, out);
      for (let i = 0; i < n; i++) {
        s1[i] += a[i];
        q1[i] += a[i] * a[i];
        s2[i] += out[i];
        q2[i] += out[i] * out[i];
      }
      c12[0] += (a[0] - sc.mean[0]) * (a[1] - sc.mean[1]);
      c12[1] += (out[0] - sc.mean[0]) * (out[1] - sc.mean[1]);
    }
    for (let i = 0; i < n; i++) {
      const sd = sc.sdOf(i);
      expect(Math.abs(s1[i] / N - sc.mean[i])).toBeLessThan((5 * sd) / Math.sqrt(N));
      expect(Math.abs(s2[i] / N - sc.mean[i])).toBeLessThan((5 * sd) / Math.sqrt(N));
      expect(Math.abs((q1[i] / N - (s1[i] / N) ** 2) / (sd * sd) - 1)).toBeLessThan(0.06);
      expect(Math.abs((q2[i] / N - (s2[i] / N) ** 2) / (sd * sd) - 1)).toBeLessThan(0.06);
    }
    const sdp = sc.sdOf(0) * sc.sdOf(1);
    expect(Math.abs(c12[0] / N - c12[1] / N) / sdp).toBeLessThan(0.06);
  });

  it('incremental state equals a rebuild from raw statistics after many updates', () => {
    const { m } = trained(3);
    const fresh = HybridModel.fromSnapshot(JSON.parse(JSON.stringify(m.snapshot())));
    const a = m.posterior(),
      b = fresh.posterior();
    expectClose(a.A0, b.A0, 1e-9);
    expectClose(a.beta, b.beta, 1e-9);
    expectClose([a.bn], [b.bn], 1e-9);
  });

  it('deltas carry per-item statistics; restoreDelta puts a failed flush back', () => {
    const m = HybridModel.create({ contextDim: 1, itemDim: 1 });
    m.observe([1], { id: 'a', features: [2] }, 1);
    const d = m.takeDelta();
    expect(Object.keys(d.stats.items)).toEqual(['a']);
    expect(d.stats.items.a).toEqual({ n: 1, xx: [1, 1, 1, 1], zx: [2, 2, 2, 2], xr: [1, 1], yy: 1 });
    expect(d.stats.zz).toEqual([4, 4, 4, 4]);
    m.restoreDelta(d);
    expect(m.peekDelta()).toEqual(d);
    expect(m.snapshot().stats).toEqual(d.stats);
  });

  it('works without the intercept, and validates dimensions', () => {
    const m = HybridModel.create({ contextDim: 2, itemDim: 1, intercept: false });
    expect(m.dx).toBe(2);
    expect(m.dz).toBe(2);
    m.observe([1, 0], { id: 'a', features: [1] }, 1);
    expect(() => m.observe([1], { id: 'a', features: [1] })).toThrow(RangeError);
    expect(() => m.prepare([1, 0], [{ id: 'a' }, { id: 'a' }])).toThrow(/duplicate/);
    expect(() => HybridModel.create({ contextDim: 0, itemDim: 1, intercept: false })).toThrow(RangeError);
  });
});

describe('HybridModel merges', () => {
  it('incremental merges/rebases (only touched items re-derived) equal a full rebuild', () => {
    const r = new Rng(11);
    const feats = Array.from({ length: 40 }, () => vec(r, 2));
    const a = HybridModel.create({ contextDim: 2, itemDim: 2 });
    const b = HybridModel.create({ contextDim: 2, itemDim: 2 });
    const db = HybridModel.create({ contextDim: 2, itemDim: 2 });
    for (let round = 0; round < 12; round++) {
      for (const [m, lo] of [
        [a, 0],
        [b, 20],
      ] as const) {
        for (let t = 0; t < 15; t++) {
          const i = lo + r.int(round % 3 === 0 ? 20 : 4); // some rounds touch few items, some many
          const c = vec(r, 2);
          m.observe(c, { id: `i${i}`, features: feats[i] });
          if (r.uniform() < 0.5) m.correct(c, { id: `i${i}`, features: feats[i] }, 0, r.normal());
        }
      }
      const da = a.takeDelta(),
        dbb = b.takeDelta();
      db.mergeDelta(da);
      db.mergeDelta(dbb);
      a.rebase(db.snapshot());
      b.mergeDelta(da);
    }
    const full = HybridModel.fromSnapshot(db.snapshot());
    for (const m of [a, b, db]) {
      expect(m.snapshot().stats.n).toBe(full.snapshot().stats.n);
      const p = m.posterior(),
        q = full.posterior();
      expectClose(p.A0, q.A0, 1e-9, 'A0');
      expectClose(p.beta, q.beta, 1e-9, 'beta');
      expectClose([p.bn], [q.bn], 1e-9, 'bn');
      expectClose(m.itemPosterior('i3').theta, full.itemPosterior('i3').theta, 1e-9, 'theta');
    }
    b.refresh();
    expectClose(b.posterior().beta, full.posterior().beta, 1e-12, 'refresh');
  });
});
