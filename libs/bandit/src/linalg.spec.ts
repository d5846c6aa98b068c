import { NotPositiveDefiniteError, addOuterLower, cholUpdate, cholesky, choleskySemidefinite, identity, symmetrizeFromLower } from './linalg';
import { Rng } from './rng';
import { expectClose } from './testing';

// Exact values against NumPy live in golden.spec.ts; these are structural checks.
describe('linalg', () => {
  it('throws NotPositiveDefiniteError on an indefinite matrix', () => {
    expect(() => cholesky([1, 2, 2, 1], 2)).toThrow(NotPositiveDefiniteError);
  });

  it('semidefinite Cholesky reproduces a rank-deficient PSD matrix', () => {
    const r = new Rng(1);
    const n = 6, k = 3;
    const B = Array.from({ length: n * k }, () => r.normal());
    const S = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) S[i * n + j] += B[i * k + t] * B[j * k + t];
    const L = choleskySemidefinite(S, n);
    const R = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < n; t++) R[i * n + j] += L[i * n + t] * L[j * n + t];
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
});
