import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import wabt from 'wabt';
import { addOuterLower, cholUpdate, cholesky, identity } from '../linalg';
import { Rng } from '../rng';
import {
  cholUpdateFactor,
  kernelBackend,
  pairTopCounts,
  scoreDraws,
  setKernelBackend,
  solvedGram,
  topKAt,
} from './index';
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/** Runs `f` on one backend, then restores WebAssembly. */
function on<T>(backend: 'wasm' | 'typescript', f: () => T): T {
  setKernelBackend(backend);
  try {
    return f();
  } finally {
    setKernelBackend('wasm');
  }
}

function factor(r: Rng, d: number): Float64Array {
  const A = identity(d, 0.25);
  for (let t = 0; t < d + 3; t++)
    addOuterLower(
      A,
      Array.from({ length: d }, () => r.normal()),
      d,
    );
  return cholesky(A, d);
}

describe('kernels', () => {
  it('run in WebAssembly SIMD on Node 20', () => {
    expect(kernelBackend()).toBe('wasm');
    expect(on('typescript', kernelBackend)).toBe('typescript');
  });

  it('solvedGram: WebAssembly and TypeScript give bit-identical matrices (odd and even sizes; 4-, 2- and 1-row passes)', () => {
    const r = new Rng(31);
    for (const [rows, d] of [
      [1, 1],
      [2, 3],
      [5, 17],
      [7, 16],
      [50, 289],
    ]) {
      const L = factor(r, d);
      const G = Float64Array.from({ length: rows * d }, () => r.normal());
      const fast = on('wasm', () => solvedGram(L, G, rows, d));
      const reference = on('typescript', () => solvedGram(L, G, rows, d));
      expect(Array.from(fast)).toEqual(Array.from(reference));
      expect(fast[0]).toBeGreaterThan(0);
    }
  });

  it('cholUpdateFactor: the WebAssembly rank-k pass equals k successive cholUpdate calls bit for bit', () => {
    const r = new Rng(35);
    // d = 1…7 and 289 cover the full 4-column blocks (two-row lanes plus an odd last row) and the narrow last block
    for (const [d, k] of [
      [1, 2],
      [2, 3],
      [5, 2],
      [7, 5],
      [8, 2],
      [16, 4],
      [289, 5],
      [6, 1], // k = 1 takes the TypeScript loop on both backends
    ]) {
      const L = factor(r, d);
      const U = Float64Array.from({ length: k * d }, () => r.normal());
      // zero entries take the identity rotation (first update) and a zero update row (last) changes nothing
      if (d > 1) U[0] = 0;
      if (d > 3) U[2] = 0;
      if (k > 1) U.fill(0, (k - 1) * d);
      const sequential = Float64Array.from(L);
      for (let u = 0; u < k; u++) cholUpdate(sequential, U.subarray(u * d, (u + 1) * d), d);
      const fast = Float64Array.from(L);
      on('wasm', () => cholUpdateFactor(fast, U, k, d));
      const fallback = Float64Array.from(L);
      on('typescript', () => cholUpdateFactor(fallback, U, k, d));
      expect(Array.from(fast)).toEqual(Array.from(sequential));
      expect(Array.from(fallback)).toEqual(Array.from(sequential));
      expect(fast).not.toEqual(L);
    }
  });

  it('cholUpdateFactor keeps the updated factor resident for solvedGram under its new version', () => {
    const r = new Rng(36);
    const d = 23;
    const L = factor(r, d);
    const G = Float64Array.from({ length: 3 * d }, () => r.normal());
    const U = Float64Array.from({ length: 2 * d }, () => r.normal());
    solvedGram(L, G, 3, d, 1); // L resident as version 1
    cholUpdateFactor(L, U, 2, d, 1, 2); // updated where it lies, resident as version 2
    const resident = solvedGram(L, G, 3, d, 2); // no copy: reads the resident factor
    const copied = solvedGram(Float64Array.from(L), G, 3, d); // copies the JavaScript factor
    expect(Array.from(resident)).toEqual(Array.from(copied));
    // the TypeScript backend changes L in JavaScript only: the resident copy is dropped, so a later WebAssembly call
    // naming the old version copies L in afresh instead of updating the stale copy
    const expected = Float64Array.from(L);
    for (let t = 0; t < 2; t++) for (let u = 0; u < 2; u++) cholUpdate(expected, U.subarray(u * d, (u + 1) * d), d);
    on('typescript', () => cholUpdateFactor(L, U, 2, d, 2, 3));
    cholUpdateFactor(L, U, 2, d, 2, 3);
    expect(Array.from(L)).toEqual(Array.from(expected));
  });

  it('scoreDraws: WebAssembly and TypeScript give bit-identical draws (lower and full factors, odd and even counts)', () => {
    const r = new Rng(32);
    for (const [n, rank, count, lower] of [
      [1, 1, 1, true],
      [7, 7, 3, true],
      [50, 50, 64, true],
      [9, 4, 5, false],
    ] as const) {
      const F = Float64Array.from({ length: n * rank }, () => r.normal());
      const zetas = Float64Array.from({ length: count * rank }, () => r.normal());
      const mean = Float64Array.from({ length: n }, () => r.normal());
      const sigmas = Float64Array.from({ length: count }, () => 0.5 + r.uniform());
      const fast = new Float64Array(count * n);
      const reference = new Float64Array(count * n);
      on('wasm', () => scoreDraws(F, zetas, mean, sigmas, fast, n, rank, count, lower));
      on('typescript', () => scoreDraws(F, zetas, mean, sigmas, reference, n, rank, count, lower));
      expect(Array.from(fast)).toEqual(Array.from(reference));
      // one draw by hand: mean + σ · (row of F up to the diagonal) · ζ
      const end = lower ? 1 : rank;
      let s = 0;
      for (let j = 0; j < end; j++) s += F[j] * zetas[j];
      expect(fast[0]).toBeCloseTo(mean[0] + sigmas[0] * s, 12);
    }
  });

  it('the committed module is kernels.wat assembled (node tools/bandit/build-kernels.js regenerates it)', async () => {
    const tools = await wabt();
    const module = tools.parseWat('kernels.wat', readFileSync(join(__dirname, 'kernels.wat'), 'utf8'), { simd: true });
    module.validate();
    const bytes = Buffer.from(module.toBinary({ write_debug_names: false }).buffer);
    module.destroy();
    expect(bytes.toString('base64')).toBe(KERNELS_WASM_BASE64);
  });

  it('pairTopCounts: both backends count the written-out antithetic draws exactly, ties to the lower index, in any visiting order', () => {
    const r = new Rng(33);
    for (const [n, k, pairs, tied] of [
      [1, 1, 1, false],
      [9, 3, 5, false],
      [50, 5, 32, false],
      [12, 4, 6, true],
    ] as const) {
      // tied: F = 0, so every draw is the mean, whose equal entries must keep the lower index in front
      const F = Float64Array.from({ length: n * n }, (_, i) => (tied || i % n > Math.floor(i / n) ? 0 : r.normal()));
      const zetas = Float64Array.from({ length: pairs * n }, () => r.normal());
      const mean = Float64Array.from({ length: n }, (_, i) => (tied ? [0.5, 1, 1, 0.5][i % 4] : r.normal() * 0.3));
      const sigmas = Float64Array.from({ length: pairs }, () => 0.5 + r.uniform());
      const chosen = new Int32Array(k);
      topKAt(mean, 0, n, k, chosen, new Float64Array(k));
      if (!tied) chosen.reverse(); // some slots then match only in some draws
      // reference: the draws written out as samplePairs does, counted with topKAt
      const prods = new Float64Array(pairs * n);
      on('typescript', () =>
        scoreDraws(F, zetas, new Float64Array(n), new Float64Array(pairs).fill(1), prods, n, n, pairs, true),
      );
      const expected = new Float64Array(k);
      const row = new Float64Array(2 * n);
      const order = new Int32Array(k);
      for (let t = 0; t < pairs; t++) {
        for (let i = 0; i < n; i++) {
          const d = sigmas[t] * prods[t * n + i];
          row[i] = mean[i] + d;
          row[n + i] = mean[i] - d;
        }
        for (const at of [0, n]) {
          topKAt(row, at, n, k, order, new Float64Array(k));
          for (let j = 0; j < k; j++) if (order[j] === chosen[j]) expected[j] += 1;
        }
      }
      // visiting orders (identity, reversed, by decreasing mean with ties in either order) never change the counts
      const reversed = Int32Array.from({ length: n }, (_, i) => n - 1 - i);
      const byMean = Int32Array.from(mean.keys()).sort((a, b) => mean[b] - mean[a] || b - a);
      for (const backend of ['wasm', 'typescript'] as const)
        for (const visit of [undefined, reversed, byMean]) {
          const counts = new Float64Array(k);
          on(backend, () => pairTopCounts(F, zetas, mean, sigmas, n, n, pairs, true, chosen, counts, visit));
          expect(Array.from(counts)).toEqual(Array.from(expected));
        }
      if (tied) expect(Array.from(expected)).toEqual(new Array(k).fill(2 * pairs));
    }
  });
});
