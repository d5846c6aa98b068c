import { Rng } from '../rng';
import { createFeatureMap } from '../features';
import { expectClose } from '../testing';
import { LinearModel } from './linear';
import { createNeuralLinearModel } from './neural-linear';
import { createModel, modelFromSnapshot } from './registry';

const vec = (r: Rng, k: number): number[] => Array.from({ length: k }, () => r.normal());

describe('LinearModel (NIG, LinFullPost)', () => {
  it('has the Riquelme et al. defaults a0 = b0 = 6, λ = 0.25 and the prior posterior', () => {
    const m = LinearModel.create({ contextDim: 1, itemDim: 1 });
    expect(m.config).toMatchObject({ a0: 6, b0: 6, lambda: 0.25 });
    const p = m.posterior();
    expect(p.an).toBe(6);
    expect(p.bn).toBe(6);
    expect(Array.from(p.mean)).toEqual([0, 0, 0, 0]);
  });

  it('default reward accounting: corrections never touch XᵀX, and the final state equals the batch statistics', () => {
    const r = new Rng(1);
    const online = LinearModel.create({ contextDim: 3, itemDim: 2 });
    const batch = LinearModel.create({ contextDim: 3, itemDim: 2 });
    const shown = Array.from({ length: 30 }, (_, t) => ({
      ctx: vec(r, 3),
      cand: { id: `i${t % 5}`, features: vec(r, 2) },
      reward: r.uniform() < 0.3 ? r.uniform() * 3 : 0,
    }));
    for (const s of shown) online.observe(s.ctx, s.cand); // reward 0 at decision time
    const xxBefore = online.snapshot().stats.xx;
    for (const s of shown) if (s.reward !== 0) online.correct(s.ctx, s.cand, 0, s.reward);
    expect(online.snapshot().stats.xx).toEqual(xxBefore);
    for (const s of shown) batch.observe(s.ctx, s.cand, s.reward);
    const a = online.snapshot().stats,
      b = batch.snapshot().stats;
    expect(a.n).toBe(b.n);
    expect(a.xx).toEqual(b.xx);
    expectClose(a.xy, b.xy, 1e-13);
    expectClose([a.yy], [b.yy], 1e-13);
    const pa = online.posterior(),
      pb = batch.posterior();
    expectClose(pa.mean, pb.mean, 1e-12);
    expectClose([pa.bn], [pb.bn], 1e-12);
  });

  it('the rank-one-updated factor equals a fresh Cholesky of Λn', () => {
    const r = new Rng(2);
    const m = LinearModel.create({ contextDim: 0, itemDim: 15, featureMap: 'item' });
    for (let t = 0; t < 500; t++) m.observeVector([1, ...vec(r, 15)], r.normal());
    const fresh = LinearModel.fromSnapshot(m.snapshot());
    expectClose(m.posterior().cholesky, fresh.posterior().cholesky, 1e-10);
    expectClose(m.posterior().mean, fresh.posterior().mean, 1e-10);
  });

  it('takeDelta / restoreDelta / rebase', () => {
    const r = new Rng(3);
    const m = LinearModel.create({ contextDim: 1, itemDim: 1 });
    m.observe([1], { id: 'a', features: [2] }, 1);
    const d = m.takeDelta();
    expect(d.stats.n).toBe(1);
    expect(m.peekDelta().stats.n).toBe(0);
    expect(m.snapshot().stats.n).toBe(1);
    m.restoreDelta(d);
    expect(m.peekDelta().stats).toEqual(d.stats);
    expect(m.snapshot().stats).toEqual(d.stats);
    // rebase on a database state that already contains another replica's work
    const other = LinearModel.create({ contextDim: 1, itemDim: 1 });
    other.observe(vec(r, 1), { id: 'b', features: vec(r, 1) }, 0.5);
    const db = LinearModel.create({ contextDim: 1, itemDim: 1 });
    db.mergeDelta(other.takeDelta());
    m.rebase(db.snapshot());
    const expected = LinearModel.create({ contextDim: 1, itemDim: 1 });
    expected.mergeDelta(db.snapshot());
    expected.mergeDelta(d);
    expect(m.snapshot().stats).toEqual(expected.snapshot().stats);
    expect(m.peekDelta().stats).toEqual(d.stats); // still pending: will be flushed next
  });

  it('per-item noise: reward sums per item travel in snapshots and deltas and merge exactly; old snapshots load pooled', () => {
    const m = LinearModel.create({ contextDim: 1, itemDim: 1 });
    expect(m.config.noise).toBe('item');
    m.observe([1], { id: 'a', features: [2] }); // default reward accounting: 0 now, corrected later
    m.correct([1], { id: 'a', features: [2] }, 0, 3);
    m.observe([0.5], { id: 'a', features: [2] }, -1);
    m.observe([0.5], { id: 'b', features: [1] }, 2);
    // c̃ = [1, context]: Σ c̃ y and Σ c̃ c̃ᵀ per item
    expect(m.peekDelta().stats.items).toEqual({
      a: { n: 2, yy: 10, xr: [2, 2.5], xx: [2, 1.5, 1.5, 1.25] },
      b: { n: 1, yy: 4, xr: [2, 1], xx: [1, 0.5, 0.5, 0.25] },
    });
    // two replicas' deltas add up to one model's statistics
    const r1 = LinearModel.create({ contextDim: 1, itemDim: 1 });
    const r2 = LinearModel.create({ contextDim: 1, itemDim: 1 });
    r1.observe([1], { id: 'a', features: [2] }, 3);
    r2.observe([0.5], { id: 'a', features: [2] }, -1);
    r2.observe([0.5], { id: 'b', features: [1] }, 2);
    const merged = LinearModel.create({ contextDim: 1, itemDim: 1 });
    merged.mergeDelta(JSON.parse(JSON.stringify(r1.takeDelta())));
    merged.mergeDelta(JSON.parse(JSON.stringify(r2.takeDelta())));
    expect(merged.snapshot().stats.items).toEqual(m.snapshot().stats.items);
    const cands = [
      { id: 'a', features: [2] },
      { id: 'b', features: [1] },
      { id: 'new', features: [1] },
    ];
    expectClose(merged.noiseScales(cands) as Float64Array, m.noiseScales(cands) as Float64Array, 1e-12, 'c'); // bn: summation order
    // item a: LinFullPost's RSS of its own ridge on c̃ = [1, context] (λ = 0.25), rows [1, 1] → 3 and [1, 0.5] → −1:
    // RSS = yᵀy − bᵀ(CᵀC + λI)⁻¹b with CᵀC = [[2, 1.5], [1.5, 1.25]], b = Cᵀy = [2, 2.5];
    // c_a² = ((a0·bn/an + RSS/2)/(a0 + 1)) / (bn/an); unseen: 1
    const pooled = m.bn() / m.an();
    const [p, q, r] = [2 + 0.25, 1.5, 1.25 + 0.25];
    const det = p * r - q * q;
    const rss = 10 - (2 * (r * 2 - q * 2.5) + 2.5 * (p * 2.5 - q * 2)) / det;
    expect((m.noiseScales(cands) as Float64Array)[0]).toBeCloseTo(Math.sqrt((6 * pooled + rss / 2) / 7 / pooled), 12);
    expect((m.noiseScales(cands) as Float64Array)[2]).toBe(1);
    // the cached RSS follows the item's sums: a further reward of a changes c_a as a fresh model's
    const again = LinearModel.fromSnapshot(m.snapshot());
    for (const x of [m, again]) x.observe([2], { id: 'a', features: [2] }, 5);
    expectClose(
      m.noiseScales(cands) as Float64Array,
      again.noiseScales(cands) as Float64Array,
      1e-12,
      'c after observe',
    );
    // the database's copy may have no items at all (no item rows yet): loads with empty sums
    const noRows = m.snapshot();
    delete noRows.stats.items;
    expect(LinearModel.fromSnapshot(noRows).noiseScales(cands)).toEqual(Float64Array.of(1, 1, 1));
    // a snapshot from before per-item noise (no `noise`, no items) loads with the pooled noise it was built with
    const old = m.snapshot();
    delete old.config.noise;
    delete old.config.itemEffect;
    delete old.stats.items;
    const legacy = LinearModel.fromSnapshot(old);
    expect(legacy.noiseScales(cands)).toBeNull();
    legacy.observe([1], { id: 'a', features: [2] }, 1);
    expect(legacy.peekDelta().stats.items).toBeUndefined();
    expect(() => legacy.mergeDelta(m.peekDelta())).toThrow(RangeError); // configs differ
  });

  it('rejects incompatible deltas, bad vectors and rewards', () => {
    const m = LinearModel.create({ contextDim: 1, itemDim: 1 });
    const other = LinearModel.create({ contextDim: 1, itemDim: 1, lambda: 1 });
    expect(() => m.mergeDelta(other.takeDelta())).toThrow(RangeError);
    expect(() => m.observe([1, 2], { id: 'a', features: [1] })).toThrow(RangeError);
    expect(() => m.observe([1], { id: 'a', features: [Number.NaN] })).toThrow(RangeError);
    expect(() => m.observe([1], { id: 'a', features: [1] }, Infinity)).toThrow(RangeError);
    // config key order does not matter (jsonb reorders keys)
    const snap = m.snapshot();
    const reordered = {
      ...snap,
      config: {
        itemEffect: 'twins' as const,
        positionModel: 'pbm' as const,
        noise: 'item' as const,
        features: snap.config.features,
        b0: 6,
        a0: 6,
        lambda: 0.25,
      },
    };
    expect(() => m.mergeDelta(reordered)).not.toThrow();
  });

  it('semidefinite score covariance (more candidates than its rank): re-draws still have covariance σ²S', () => {
    const r = new Rng(4);
    const m = LinearModel.create({ contextDim: 2, itemDim: 2, featureMap: 'concat' });
    for (let t = 0; t < 50; t++) m.observe(vec(r, 2), { id: 'x', features: vec(r, 2) }, r.normal());
    const cands = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, features: vec(r, 2) }));
    const sc = m.prepare([0.1, 0.2], cands);
    const S = (sc.covariance as () => Float64Array)();
    // Monte-Carlo covariance of re-draws / E[σ²] ≈ S
    const N = 40000,
      n = 6;
    const out = new Float64Array(n);
    const acc = new Float64Array(n * n);
    const rr = new Rng(5);
    for (let t = 0; t < N; t++) {
      sc.redraw(rr, out);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) acc[i * n + j] += (out[i] - sc.mean[i]) * (out[j] - sc.mean[j]);
    }
    const p = m.posterior();
    const eSigma2 = p.bn / (p.an - 1);
    for (let i = 0; i < n * n; i++)
      expect(Math.abs(acc[i] / N / eSigma2 - S[i])).toBeLessThan(
        0.05 * Math.sqrt(S[Math.floor(i / n) * (n + 1)] * S[(i % n) * (n + 1)]) + 1e-9,
      );
  });

  it('canonical draws (via β) and fast re-draws (score space) have the same distribution', () => {
    const r = new Rng(6);
    const m = LinearModel.create({ contextDim: 2, itemDim: 3 });
    for (let t = 0; t < 40; t++) m.observe(vec(r, 2), { id: 'x', features: vec(r, 3) }, r.normal());
    const cands = Array.from({ length: 3 }, (_, i) => ({ id: `c${i}`, features: vec(r, 3) }));
    const sc = m.prepare([0.3, -0.2], cands);
    const N = 20000;
    const m1 = new Float64Array(3),
      m2 = new Float64Array(3),
      v1 = new Float64Array(3),
      v2 = new Float64Array(3);
    const out = new Float64Array(3);
    const ra = new Rng(7),
      rb = new Rng(8);
    for (let t = 0; t < N; t++) {
      const a = sc.draw(ra);
      sc.redraw(rb, out);
      for (let i = 0; i < 3; i++) {
        m1[i] += a[i];
        v1[i] += a[i] * a[i];
        m2[i] += out[i];
        v2[i] += out[i] * out[i];
      }
    }
    for (let i = 0; i < 3; i++) {
      const sd = sc.sdOf(i);
      expect(Math.abs(m1[i] / N - sc.mean[i])).toBeLessThan((5 * sd) / Math.sqrt(N));
      expect(Math.abs(m2[i] / N - sc.mean[i])).toBeLessThan((5 * sd) / Math.sqrt(N));
      const va = v1[i] / N - (m1[i] / N) ** 2,
        vb = v2[i] / N - (m2[i] / N) ** 2;
      expect(Math.abs(va / (sd * sd) - 1)).toBeLessThan(0.06);
      expect(Math.abs(vb / (sd * sd) - 1)).toBeLessThan(0.06);
    }
  });

  it('explain: posterior-mean coefficient × feature value, largest first, by name', () => {
    const r = new Rng(9);
    const m = LinearModel.create({ contextDim: 1, itemDim: 2 });
    for (let t = 0; t < 200; t++) {
      const c = vec(r, 1),
        f = vec(r, 2);
      m.observe(c, { id: 'x', features: f }, 2 * f[0] + 0.5 * c[0] * f[1] + 0.1 * r.normal());
    }
    const ex = m.explain([1], { id: 'q', features: [1, 2] }, { context: ['age'], item: ['price', 'len'] });
    expect(ex[0].feature).toBe('price');
    expect(ex[0].coefficient).toBeGreaterThan(1.8);
    const names = ex.map((e) => e.feature);
    expect(names).toContain('age×len');
    for (const e of ex) expect(e.contribution).toBeCloseTo(e.coefficient * e.value, 14);
    for (let i = 1; i < ex.length; i++)
      expect(Math.abs(ex[i - 1].contribution)).toBeGreaterThanOrEqual(Math.abs(ex[i].contribution));
  });
});

describe('feature maps', () => {
  it('interaction = [1, context] ⊗ [1, item] with names', () => {
    const f = createFeatureMap({ kind: 'interaction', contextDim: 2, itemDim: 1 });
    expect(f.dim).toBe(6);
    expect(Array.from(f.encode([2, 3], { id: 'a', features: [5] }))).toEqual([1, 5, 2, 10, 3, 15]);
    expect(f.names({ context: ['a', 'b'], item: ['p'] })).toEqual(['bias', 'p', 'a', 'a×p', 'b', 'b×p']);
    expect(Array.from(f.encode([2, 3], { id: 'a' }))).toEqual([1, 0, 2, 0, 3, 0]); // missing features = zeros
  });
  it('concat, item and embedding', () => {
    expect(
      Array.from(
        createFeatureMap({ kind: 'concat', contextDim: 1, itemDim: 1 }).encode([2], { id: 'a', features: [3] }),
      ),
    ).toEqual([1, 2, 3]);
    expect(
      Array.from(createFeatureMap({ kind: 'item', contextDim: 1, itemDim: 1 }).encode([2], { id: 'a', features: [3] })),
    ).toEqual([1, 3]);
    const e = createFeatureMap({ kind: 'embedding', contextDim: 0, itemDim: 0, embeddingDim: 2, intercept: true });
    expect(Array.from(e.encode([], { id: 'a', embedding: [4, 5] }))).toEqual([1, 4, 5]);
    expect(() => e.encode([], { id: 'a' })).toThrow(RangeError);
  });
});

describe('neural-linear', () => {
  it('is the linear model on the embedding (+ intercept)', () => {
    const r = new Rng(10);
    const nl = createNeuralLinearModel({ embeddingDim: 3 });
    const lin = LinearModel.create({ contextDim: 0, itemDim: 3, featureMap: 'item' });
    for (let t = 0; t < 30; t++) {
      const e = vec(r, 3),
        y = r.normal();
      nl.observe([], { id: 'a', embedding: e }, y);
      lin.observe([], { id: 'a', features: e }, y);
    }
    expect(nl.type).toBe('neural-linear');
    expectClose(nl.posterior().mean, lin.posterior().mean, 1e-15);
    const snap = JSON.parse(JSON.stringify(nl.snapshot()));
    const back = modelFromSnapshot(snap);
    expect(back.type).toBe('neural-linear');
    expect(createModel({ type: 'neural-linear', embeddingDim: 3 }).type).toBe('neural-linear');
  });
});
