import {
  NotPositiveDefiniteError,
  addOuterLower,
  cholUpdate,
  cholesky,
  choleskySemidefinite,
  forwardSolve,
  forwardSolveRows,
  gramRows,
  identity,
  symmetrizeFromLower,
} from './linalg';
import { Rng } from './rng';
import { expectClose } from './testing';

// Exact values against NumPy live in golden.spec.ts; these are structural checks.
describe('linalg', () => {
  it('throws NotPositiveDefiniteError on an indefinite matrix', () => {
    expect(() => cholesky([1, 2, 2, 1], 2)).toThrow(NotPositiveDefiniteError);
  });

  it('semidefinite Cholesky reproduces a rank-deficient PSD matrix', () => {
    const r = new Rng(1);
    const n = 6,
      k = 3;
    const B = Array.from({ length: n * k }, () => r.normal());
    const S = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) S[i * n + j] += B[i * k + t] * B[j * k + t];
    const L = choleskySemidefinite(S, n);
    const R = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let t = 0; t < n; t++) R[i * n + j] += L[i * n + t] * L[j * n + t];
    expectClose(R, S, 1e-9);
  });

  it('rank-one updates agree with refactorising, for many updates at d = 32', () => {
    const r = new Rng(2);
    const d = 32;
    const A = identity(d, 0.25);
    const L = cholesky(A, d);
    for (let t = 0; t < 300; t++) {
      const x = Array.from({ length: d }, () => (r.uniform() < 0.3 ? 0 : r.normal()));
      addOuterLower(A, x, d);
      cholUpdate(L, x, d);
    }
    expectClose(L, cholesky(symmetrizeFromLower(A, d), d), 1e-10);
  });

  it('forwardSolveRows equals a forward solve per row (odd and even row counts), gramRows equals Y Yᵀ', () => {
    const r = new Rng(3);
    const d = 11;
    const A = identity(d, 0.5);
    for (let t = 0; t < 20; t++)
      addOuterLower(
        A,
        Array.from({ length: d }, () => r.normal()),
        d,
      );
    const L = cholesky(A, d);
    for (const rows of [1, 4, 5]) {
      const B = Float64Array.from({ length: rows * d }, () => r.normal());
      const Y = forwardSolveRows(L, B, rows, d);
      for (let a = 0; a < rows; a++)
        expectClose(Y.subarray(a * d, (a + 1) * d), forwardSolve(L, B.subarray(a * d, (a + 1) * d), d), 1e-12);
      const G = gramRows(Y, rows, d);
      for (let a = 0; a < rows; a++)
        for (let b = 0; b < rows; b++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += Y[a * d + k] * Y[b * d + k];
          expect(G[a * rows + b]).toBeCloseTo(s, 12);
        }
    }
  });

  it('cholUpdate (4-column blocks) is bit-identical to the column-by-column LINPACK update, zeros and odd d included', () => {
    const reference = (L: Float64Array, x: number[], d: number): void => {
      const w = Float64Array.from(x);
      for (let k = 0; k < d; k++) {
        if (w[k] === 0) continue;
        const lkk = L[k * d + k];
        const r = Math.sqrt(lkk * lkk + w[k] * w[k]);
        const c = r / lkk,
          s = w[k] / lkk,
          ic = 1 / c;
        L[k * d + k] = r;
        for (let i = k + 1; i < d; i++) {
          const lik = (L[i * d + k] + s * w[i]) * ic;
          L[i * d + k] = lik;
          w[i] = c * w[i] - s * lik;
        }
      }
    };
    const r = new Rng(4);
    for (const d of [1, 3, 4, 9, 17]) {
      const L1 = cholesky(identity(d, 0.25), d);
      const L2 = Float64Array.from(L1);
      for (let t = 0; t < 40; t++) {
        const x = Array.from({ length: d }, () => (r.uniform() < 0.3 ? 0 : r.normal()));
        cholUpdate(L1, x, d);
        reference(L2, x, d);
      }
      expect(Array.from(L1)).toEqual(Array.from(L2));
    }
  });
});
