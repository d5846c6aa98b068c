import { Rng } from '../rng';
import { cholSolve, cholesky } from '../linalg';
import { setKernelBackend } from '../kernels';
import { monteCarloPropensities, monteCarloPropensitiesStopped, topK } from '../policies/slate';
import type { Candidate, SlateScorer } from '../types';
import { HybridModel } from './hybrid';

/**
 * Issue 13, the decision's hot path: B_aᵀw from the Kronecker structure of an item's statistics (constant features)
 * and the factor kept in the kernels' memory per posterior version. Checked against the textbook quantities formed
 * from the model's own posterior (A0, A_a, B_a) with dense solves.
 */
const vec = (r: Rng, k: number): number[] => Array.from({ length: k }, () => r.normal());

/** Items 'k0'..'k4' keep their features; 'moved' changes features halfway (its zx is no Kronecker product). */
function setup(noise: 'item' | 'pooled'): { m: HybridModel; cands: Candidate[]; ctx: number[] } {
  const r = new Rng(13);
  const m = HybridModel.create({ contextDim: 3, itemDim: 4, noise });
  const feats: Record<string, number[]> = {};
  for (let i = 0; i < 5; i++) feats[`k${i}`] = vec(r, 4);
  for (let t = 0; t < 400; t++) {
    const id = t % 6 === 5 ? 'moved' : `k${r.int(5)}`;
    const f = id === 'moved' ? (t < 200 ? [1, -2, 0.5, 3] : [-1, 0.5, 2, -0.3]) : feats[id];
    m.observe(vec(r, 3), { id, features: f }, r.uniform() < 0.3 ? 1 : 0);
  }
  const cands: Candidate[] = [
    ...Object.entries(feats).map(([id, features]) => ({ id, features })),
    { id: 'moved', features: [-1, 0.5, 2, -0.3] },
    { id: 'cold', features: vec(r, 4) },
  ];
  return { m, cands, ctx: vec(r, 3) };
}

/** g_a = z_a − B_aᵀ A_a⁻¹ x and the mean z_aᵀβ̂ + xᵀθ̂_a from the model's posterior, densely. */
function reference(m: HybridModel, ctx: number[], cands: Candidate[]): { mean: number[]; S: number[][] } {
  const post = m.posterior();
  const { dx, dz } = post;
  const x = m.encodeContext(ctx);
  const L0 = cholesky(post.A0, dz);
  const gs: Float64Array[] = [];
  const v: number[] = [];
  const mean = cands.map((c) => {
    const z = m.encodeShared(x, c);
    const ip = m.itemPosterior(c.id);
    const w = cholSolve(cholesky(ip.A, dx), x, dx);
    const g = new Float64Array(dz);
    for (let i = 0; i < dz; i++) {
      let s = 0;
      for (let j = 0; j < dx; j++) s += ip.B[j * dz + i] * w[j];
      g[i] = z[i] - s;
    }
    gs.push(g);
    v.push(x.reduce((t, xi, i) => t + xi * w[i], 0));
    let mu = 0;
    for (let i = 0; i < dz; i++) mu += z[i] * post.beta[i];
    for (let j = 0; j < dx; j++) mu += x[j] * ip.theta[j];
    return mu;
  });
  const solved = gs.map((g) => cholSolve(L0, g, dz));
  const S = gs.map((ga, a) =>
    gs.map((_, b) => ga.reduce((t, gi, i) => t + gi * solved[b][i], 0) + (a === b ? v[a] : 0)),
  );
  return { mean, S };
}

describe('hybrid decision hot path (issue 13)', () => {
  it('means and score covariance equal the dense textbook ones, for constant-feature, changed-feature and cold items', () => {
    for (const noise of ['pooled', 'item'] as const) {
      const { m, cands, ctx } = setup(noise);
      const sc = m.prepare(ctx, cands);
      const ref = reference(m, ctx, cands);
      sc.mean.forEach((mu, a) => expect(Math.abs(mu - ref.mean[a])).toBeLessThan(1e-9 * (1 + Math.abs(ref.mean[a]))));
      if (noise === 'pooled') {
        const S = sc.covariance!();
        const n = cands.length;
        for (let a = 0; a < n; a++)
          for (let b = 0; b < n; b++)
            expect(Math.abs(S[a * n + b] - ref.S[a][b])).toBeLessThan(1e-9 * (1 + Math.abs(ref.S[a][b])));
      }
    }
  });

  it('an item whose features change after the structure was cached is handled exactly (no stale Kronecker form)', () => {
    const { m, cands, ctx } = setup('pooled');
    m.prepare(ctx, cands); // caches the structure of k0..k4
    const r = new Rng(5);
    for (let t = 0; t < 30; t++) m.observe(vec(r, 3), { id: 'k0', features: [5, -5, 5, -5] }, 1);
    const sc = m.prepare(ctx, cands);
    const ref = reference(m, ctx, cands);
    sc.mean.forEach((mu, a) => expect(Math.abs(mu - ref.mean[a])).toBeLessThan(1e-9 * (1 + Math.abs(ref.mean[a]))));
  });

  it('the factor kept per version: covariances stay right across observations, merges and two models sharing the kernels', () => {
    const a = setup('pooled');
    const b = setup('pooled');
    const r = new Rng(9);
    b.m.observe(vec(r, 3), a.cands[0], 1); // b's factor differs from a's
    const n = a.cands.length;
    const check = (m: HybridModel): void => {
      const S = m.prepare(a.ctx, a.cands).covariance!();
      const ref = reference(m, a.ctx, a.cands).S;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          expect(Math.abs(S[i * n + j] - ref[i][j])).toBeLessThan(1e-9 * (1 + Math.abs(ref[i][j])));
    };
    for (let round = 0; round < 3; round++) {
      check(a.m);
      // re-draws use the kernels' memory too: they must not overwrite the kept factor
      const sc = a.m.prepare(a.ctx, a.cands);
      monteCarloPropensities(sc, topK(sc.mean, 2), 300, new Rng(round));
      check(a.m);
      a.m.observe(vec(r, 3), a.cands[round], 0); // a new version of a's factor: copied again
      check(a.m);
      check(b.m);
      check(a.m);
      a.m.mergeDelta(b.m.peekDelta());
      check(a.m);
    }
  });

  it('re-draws counted in the kernels (redrawPairCounts) give the propensities of redrawPairs plus counting, both backends', () => {
    const { m, cands, ctx } = setup('item');
    const sc = m.prepare(ctx, cands);
    expect(sc.redrawPairCounts).toBeDefined();
    // the same scorer without the fused path: the slate code then writes the draws out and counts them itself
    const written: SlateScorer = {
      n: sc.n,
      mean: sc.mean,
      sdOf: (i) => sc.sdOf(i),
      draw: (rng) => sc.draw(rng),
      redraw: (rng, out) => sc.redraw(rng, out),
      redrawPairs: (rng, pairs, out) => sc.redrawPairs!(rng, pairs, out),
    };
    for (const backend of ['wasm', 'typescript'] as const) {
      setKernelBackend(backend);
      try {
        for (const [k, draws, target] of [
          [3, 1000, 'auto'],
          [3, 777, null],
          [1, 300, 0.01],
          [7, 64, null],
        ] as const) {
          const chosen = topK(sc.draw(new Rng(k)), k);
          const fused = monteCarloPropensitiesStopped(sc, chosen, draws, new Rng(draws), target);
          const reference = monteCarloPropensitiesStopped(written, chosen, draws, new Rng(draws), target);
          expect(fused).toEqual(reference);
        }
      } finally {
        setKernelBackend('wasm');
      }
    }
  });
});
