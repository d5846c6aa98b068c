/** L2-regularized logistic regression fitted by Newton's method (deterministic; small dense problems). */
export interface LogisticFit {
  weights: Float64Array;
  iterations: number;
  logLikelihood: number;
}

/**
 * Minimizes −Σ log p(y|x) + (λ/2)·Σ_{j ∉ unpenalized} w_j². `rows` are dense feature vectors of length p.
 */
export function fitLogistic(
  rows: ArrayLike<number>[],
  y: ArrayLike<number>,
  lambda: number,
  unpenalized: number[] = [0],
  maxIter = 50,
): LogisticFit {
  const p = rows[0].length;
  const w = new Float64Array(p);
  const free = new Set(unpenalized);
  let iterations = 0;
  let ll = 0;
  for (; iterations < maxIter; iterations++) {
    const g = new Float64Array(p);
    const h = new Float64Array(p * p);
    ll = 0;
    for (let r = 0; r < rows.length; r++) {
      const x = rows[r];
      let eta = 0;
      for (let j = 0; j < p; j++) eta += w[j] * x[j];
      const mu = 1 / (1 + Math.exp(-eta));
      ll += y[r] ? Math.log(Math.max(mu, 1e-300)) : Math.log(Math.max(1 - mu, 1e-300));
      const s = mu * (1 - mu);
      const resid = mu - y[r];
      for (let j = 0; j < p; j++) {
        const xj = x[j];
        if (xj === 0) continue;
        g[j] += resid * xj;
        const row = j * p;
        for (let k = 0; k < p; k++) if (x[k] !== 0) h[row + k] += s * xj * x[k];
      }
    }
    for (let j = 0; j < p; j++) {
      if (free.has(j)) continue;
      g[j] += lambda * w[j];
      h[j * p + j] += lambda;
    }
    for (let j = 0; j < p; j++) h[j * p + j] += 1e-9;
    const step = solve(h, g, p);
    let max = 0;
    for (let j = 0; j < p; j++) {
      w[j] -= step[j];
      max = Math.max(max, Math.abs(step[j]));
    }
    if (max < 1e-10) {
      iterations++;
      break;
    }
  }
  return { weights: w, iterations, logLikelihood: ll };
}

/** Solves A x = b (A symmetric positive definite, row-major) by Gaussian elimination with partial pivoting. */
export function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[piv * n + c])) piv = r;
    if (piv !== c) {
      for (let k = 0; k < n; k++) [m[c * n + k], m[piv * n + k]] = [m[piv * n + k], m[c * n + k]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    const d = m[c * n + c];
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / d;
      if (f === 0) continue;
      for (let k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let s = x[c];
    for (let k = c + 1; k < n; k++) s -= m[c * n + k] * x[k];
    x[c] = s / m[c * n + c];
  }
  return x;
}
