/**
 * The two dense loops of the propensity path — the score covariance (forward solves with the shared factor, then a
 * Gram matrix) and the re-draws (a triangular product per draw) — in WebAssembly SIMD when the runtime has it, else in
 * TypeScript. Both backends sum in the same order (two accumulators: even and odd indices), so they give bit-identical
 * numbers (kernels.spec.ts): the choice never changes a decision, a propensity or a golden value. The update path's
 * rank-k Cholesky update ({@link cholUpdateFactor}) is here too, on the factor the decision kernels keep.
 */
import { cholUpdate, forwardSolveRows, gramRows } from '../linalg';
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/** The part of the WebAssembly API used here (the project's type libraries do not declare it; Node and browsers have it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  forward_solve_rows(L: number, B: number, Y: number, rows: number, d: number): void;
  gram_rows(Y: number, S: number, rows: number, d: number): void;
  chol_update(L: number, W: number, ROT: number, k: number, d: number): void;
  score_draws(
    F: number,
    Z: number,
    mean: number,
    sigmas: number,
    out: number,
    n: number,
    r: number,
    count: number,
    lower: number,
  ): void;
  pair_counts(
    P: number,
    mean: number,
    sigmas: number,
    row: number,
    visit: number,
    n: number,
    pairs: number,
    k: number,
    chosen: number,
    counts: number,
    order: number,
    values: number,
  ): void;
}

export type KernelBackend = 'wasm' | 'typescript';

let wasm: KernelExports | null | undefined;
let preferred: KernelBackend = 'wasm';

function instance(): KernelExports | null {
  if (wasm === undefined) {
    try {
      const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
      wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as KernelExports;
    } catch {
      wasm = null; // no WebAssembly SIMD here: the TypeScript loops give the same numbers
    }
  }
  return preferred === 'wasm' ? wasm : null;
}

/** Which backend the kernels use (tests and benchmarks switch it; results are identical either way). */
export function kernelBackend(): KernelBackend {
  return instance() ? 'wasm' : 'typescript';
}

export function setKernelBackend(backend: KernelBackend): void {
  preferred = backend;
}

/**
 * The factor last copied by {@link solvedGram} with a version: it stays at offset 0 of the module's memory (the
 * other kernels' regions start after it), so a decision on an unchanged posterior skips the d² copy (592 KB at
 * d_z = 272). Keyed by the array itself and the caller's version number, which the caller bumps on every change.
 */
let resident: { L: Float64Array; version: number; d: number; bytes: number } | null = null;

function aligned(n: number): number {
  return n * 8 + ((16 - ((n * 8) % 16)) % 16);
}

/** Float64 views of consecutive regions of the module's memory from byte `base`, grown as needed (offsets in bytes). */
function regions(k: KernelExports, sizes: number[], base = 0): { offsets: number[]; view: Float64Array } {
  const offsets: number[] = [];
  let end = base;
  for (const n of sizes) {
    offsets.push(end);
    end += aligned(n); // 16-byte aligned regions
  }
  const missing = end - k.memory.buffer.byteLength;
  if (missing > 0) k.memory.grow(Math.ceil(missing / 65536));
  return { offsets, view: new Float64Array(k.memory.buffer) };
}

/**
 * S = Y Yᵀ with Y = G L⁻ᵀ (each row of G solved against the lower-triangular d × d factor L): the rows × rows
 * Gram matrix of the solved rows.
 */
export function solvedGram(L: Float64Array, G: Float64Array, rows: number, d: number, version?: number): Float64Array {
  const k = instance();
  if (!k) return gramRows(forwardSolveRows(L, G, rows, d), rows, d);
  const { offsets, view } = regions(k, [d * d, rows * d, rows * d, rows * rows]);
  const [lAt, gAt, yAt, sAt] = offsets;
  const same =
    version !== undefined && resident !== null && resident.L === L && resident.version === version && resident.d === d;
  if (!same) {
    view.set(L.subarray(0, d * d), lAt / 8);
    resident = version === undefined ? null : { L, version, d, bytes: aligned(d * d) };
  }
  view.set(G.subarray(0, rows * d), gAt / 8);
  k.forward_solve_rows(lAt, gAt, yAt, rows, d);
  k.gram_rows(yAt, sAt, rows, d);
  return view.slice(sAt / 8, sAt / 8 + rows * rows);
}

/**
 * k rank-one updates of a Cholesky factor in place: L ← chol(L Lᵀ + Σ_u U_u U_uᵀ) (L lower-triangular d × d, U k × d
 * row-major): k successive linalg.ts `cholUpdate` calls in TypeScript (and for k = 1); in WebAssembly one pass over L (read and
 * written once instead of k times, the k rotation chains of a row overlapping), bit-identical to them (kernels.spec.ts).
 * In WebAssembly the factor is updated where {@link solvedGram} keeps it: when `version` names the resident copy of
 * this L it is not copied in, and with `newVersion` the updated copy stays resident under it, so the next decision
 * on that factor skips its d² copy too (an observation right after a decision moves only the lower triangle back).
 */
export function cholUpdateFactor(
  L: Float64Array,
  U: Float64Array,
  k: number,
  d: number,
  version?: number,
  newVersion?: number,
): void {
  const kx = instance();
  // a single update stays in TypeScript: with no second update to overlap, the WebAssembly pass and its copy back
  // were no faster (loaded-machine A/B at d = 289); the bits are the same either way
  if (!kx || k < 2) {
    const work = scratch(d);
    for (let u = 0; u < k; u++) cholUpdate(L, U.subarray(u * d, (u + 1) * d), d, work);
    if (resident?.L === L) resident = null;
    return;
  }
  const { offsets, view } = regions(kx, [d * d, k * d, 12 * k]);
  const [lAt, wAt, rAt] = offsets;
  const same =
    version !== undefined && resident !== null && resident.L === L && resident.version === version && resident.d === d;
  if (!same) view.set(L.subarray(0, d * d), lAt / 8);
  view.set(U.subarray(0, k * d), wAt / 8);
  kx.chol_update(lAt, wAt, rAt, k, d);
  // only the lower triangle changes
  const base = lAt / 8;
  for (let i = 0, p = base; i < d; i++, p += d) L.set(view.subarray(p, p + i + 1), i * d);
  resident = newVersion === undefined ? null : { L, version: newVersion, d, bytes: aligned(d * d) };
}

let scratchBuf = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (scratchBuf.length < n) scratchBuf = new Float64Array(n);
  return scratchBuf;
}

/**
 * out[t] = mean + sigmas[t] · F zetas[t] for `count` draws (out: count × n). F is n × r row-major; with `lower` only
 * entries j ≤ i of row i are read (a Cholesky factor).
 */
export function scoreDraws(
  F: Float64Array,
  zetas: Float64Array,
  mean: Float64Array,
  sigmas: Float64Array,
  out: Float64Array,
  n: number,
  r: number,
  count: number,
  lower: boolean,
): void {
  const k = instance();
  if (!k) return scoreDrawsTs(F, zetas, mean, sigmas, out, n, r, count, lower);
  const { offsets, view } = regions(k, [n * r, count * r, n, count, count * n], resident?.bytes ?? 0);
  const [fAt, zAt, mAt, sAt, oAt] = offsets;
  view.set(F.subarray(0, n * r), fAt / 8);
  view.set(zetas.subarray(0, count * r), zAt / 8);
  view.set(mean.subarray(0, n), mAt / 8);
  view.set(sigmas.subarray(0, count), sAt / 8);
  k.score_draws(fAt, zAt, mAt, sAt, oAt, n, r, count, lower ? 1 : 0);
  out.set(view.subarray(oAt / 8, oAt / 8 + count * n));
}

/** The TypeScript form of score_draws: two draws share each row of F, two accumulators per draw. */
function scoreDrawsTs(
  F: Float64Array,
  zetas: Float64Array,
  mean: Float64Array,
  sigmas: Float64Array,
  out: Float64Array,
  n: number,
  r: number,
  count: number,
  lower: boolean,
): void {
  let t = 0;
  for (; t + 1 < count; t += 2) {
    const za = t * r;
    const zb = za + r;
    const oa = t * n;
    const ob = oa + n;
    for (let i = 0; i < n; i++) {
      const row = i * r;
      const end = lower ? Math.min(i + 1, r) : r;
      let a0 = 0;
      let a1 = 0;
      let b0 = 0;
      let b1 = 0;
      let j = 0;
      for (; j + 1 < end; j += 2) {
        const f0 = F[row + j];
        const f1 = F[row + j + 1];
        a0 += f0 * zetas[za + j];
        a1 += f1 * zetas[za + j + 1];
        b0 += f0 * zetas[zb + j];
        b1 += f1 * zetas[zb + j + 1];
      }
      if (j < end) {
        a0 += F[row + j] * zetas[za + j];
        b0 += F[row + j] * zetas[zb + j];
      }
      out[oa + i] = mean[i] + sigmas[t] * (a0 + a1);
      out[ob + i] = mean[i] + sigmas[t + 1] * (b0 + b1);
    }
  }
  if (t < count) {
    const za = t * r;
    const oa = t * n;
    for (let i = 0; i < n; i++) {
      const row = i * r;
      const end = lower ? Math.min(i + 1, r) : r;
      let s0 = 0;
      let s1 = 0;
      let j = 0;
      for (; j + 1 < end; j += 2) {
        s0 += F[row + j] * zetas[za + j];
        s1 += F[row + j + 1] * zetas[za + j + 1];
      }
      if (j < end) s0 += F[row + j] * zetas[za + j];
      out[oa + i] = mean[i] + sigmas[t] * (s0 + s1);
    }
  }
}

/**
 * Greedy top-k of scores[offset, offset + n) (largest first, ties: lower index first) into `order` and `values`
 * (scratch of length ≥ k): one pass with an insertion list of length k, O(n) per draw for small k.
 */
export function topKAt(
  scores: Float64Array,
  offset: number,
  n: number,
  k: number,
  order: Int32Array,
  values: Float64Array,
): void {
  let filled = 0;
  let last = -Infinity; // values[k − 1] once filled
  for (let i = 0; i < n; i++) {
    const v = scores[offset + i];
    if (filled === k && !(v > last)) continue;
    // strictly greater moves ahead, so an equal score keeps the earlier (lower) index in front
    let p = filled < k ? filled : k - 1;
    while (p > 0 && v > values[p - 1]) {
      values[p] = values[p - 1];
      order[p] = order[p - 1];
      p--;
    }
    values[p] = v;
    order[p] = i;
    if (filled < k) filled++;
    last = values[k - 1];
  }
}

/**
 * Antithetic re-draws counted without leaving the kernels: for pair t, p_t = F ζ_t (as {@link scoreDraws} with zero
 * mean and unit σ), d = sigmas[t] · p_t, and the two draws mean + d and mean − d are each filled greedily (top
 * `chosen.length`, {@link topKAt}); counts[j] += 1 when slot j holds chosen[j]. The same operations in the same order
 * as writing the draws out (NigScoreSampler.samplePairs) and counting them in JavaScript, so the counts are identical;
 * it saves handing 2 · pairs · n scores back and the JavaScript top-k loop. `visit` (a permutation of 0..n−1, e.g. by
 * decreasing mean; default the identity) is the order in which candidates enter the top-k list: ties still go to the
 * lower index, so the result does not depend on it, but visiting likely winners first skips most later insertions.
 */
export function pairTopCounts(
  F: Float64Array,
  zetas: Float64Array,
  mean: Float64Array,
  sigmas: Float64Array,
  n: number,
  r: number,
  pairs: number,
  lower: boolean,
  chosen: Int32Array,
  counts: Float64Array,
  visit: Int32Array = identityOrder(n),
): void {
  const k = chosen.length;
  if (k === 0 || pairs === 0) return;
  const w = instance();
  if (!w) return pairTopCountsTs(F, zetas, mean, sigmas, n, r, pairs, lower, chosen, counts, visit);
  const { offsets, view } = regions(
    w,
    [n * r, pairs * r, n, pairs, pairs * n, n, pairs, n, n, k, k, k, k],
    resident?.bytes ?? 0,
  );
  const [fAt, zAt, zeroAt, oneAt, pAt, mAt, sAt, rowAt, visitAt, chAt, cAt, oAt, vAt] = offsets;
  view.set(F.subarray(0, n * r), fAt / 8);
  view.set(zetas.subarray(0, pairs * r), zAt / 8);
  view.fill(0, zeroAt / 8, zeroAt / 8 + n);
  view.fill(1, oneAt / 8, oneAt / 8 + pairs);
  view.set(mean.subarray(0, n), mAt / 8);
  view.set(sigmas.subarray(0, pairs), sAt / 8);
  new Int32Array(view.buffer, chAt, k).set(chosen);
  new Int32Array(view.buffer, visitAt, n).set(visit.subarray(0, n));
  view.set(counts.subarray(0, k), cAt / 8);
  w.score_draws(fAt, zAt, zeroAt, oneAt, pAt, n, r, pairs, lower ? 1 : 0);
  w.pair_counts(pAt, mAt, sAt, rowAt, visitAt, n, pairs, k, chAt, cAt, oAt, vAt);
  counts.set(view.subarray(cAt / 8, cAt / 8 + k));
}

function pairTopCountsTs(
  F: Float64Array,
  zetas: Float64Array,
  mean: Float64Array,
  sigmas: Float64Array,
  n: number,
  r: number,
  pairs: number,
  lower: boolean,
  chosen: Int32Array,
  counts: Float64Array,
  visit: Int32Array,
): void {
  const k = chosen.length;
  const prods = new Float64Array(pairs * n);
  scoreDrawsTs(F, zetas, new Float64Array(n), new Float64Array(pairs).fill(1), prods, n, r, pairs, lower);
  const row = new Float64Array(n);
  const order = new Int32Array(k);
  const values = new Float64Array(k);
  for (let t = 0; t < pairs; t++) {
    const s = sigmas[t];
    const p = t * n;
    for (let sign = 0; sign < 2; sign++) {
      for (let q = 0; q < n; q++) {
        const i = visit[q];
        const d = s * prods[p + i];
        row[q] = sign ? mean[i] - d : mean[i] + d;
      }
      topKVisited(row, visit, n, k, order, values);
      for (let j = 0; j < k; j++) if (order[j] === chosen[j]) counts[j] += 1;
    }
  }
}

/** 0, 1, …, n − 1. */
export function identityOrder(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/**
 * {@link topKAt} over candidates visited in the order `visit` (row[q] is candidate visit[q]'s score): the same list
 * (largest first, ties to the lower candidate index) whatever the order — the form of the kernel's $top_count.
 */
function topKVisited(
  row: Float64Array,
  visit: Int32Array,
  n: number,
  k: number,
  order: Int32Array,
  values: Float64Array,
): void {
  let filled = 0;
  let last = -Infinity;
  let lastIdx = 0;
  for (let q = 0; q < n; q++) {
    const v = row[q];
    const idx = visit[q];
    if (filled === k && !(v > last || (v === last && idx < lastIdx))) continue;
    let p = filled < k ? filled : k - 1;
    while (p > 0 && (v > values[p - 1] || (v === values[p - 1] && idx < order[p - 1]))) {
      values[p] = values[p - 1];
      order[p] = order[p - 1];
      p--;
    }
    values[p] = v;
    order[p] = idx;
    if (filled < k) filled++;
    last = values[k - 1];
    lastIdx = order[k - 1];
  }
}
