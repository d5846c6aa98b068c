import { modelFromSnapshot, type ModelSnapshot } from './models/registry';

/**
 * The first number in a statistics tree (snapshot stats, or a delta's) that is not finite, as a path such as
 * `items.a.xr[2]`, or null when every number is finite. Walks numbers, number arrays, typed arrays and objects.
 */
export function nonFiniteStatistic(tree: unknown, path = ''): string | null {
  if (typeof tree === 'number') return Number.isFinite(tree) ? null : path || '(root)';
  if (ArrayBuffer.isView(tree) && !(tree instanceof DataView)) {
    const a = tree as unknown as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return `${path}[${i}]`;
    return null;
  }
  if (Array.isArray(tree)) {
    for (let i = 0; i < tree.length; i++) {
      const found = nonFiniteStatistic(tree[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (tree !== null && typeof tree === 'object') {
    for (const [k, v] of Object.entries(tree)) {
      const found = nonFiniteStatistic(v, path ? `${path}.${k}` : k);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Largest |value| of a context or item feature that an observation may carry (the API refuses larger ones with a
 * 400). The posteriors add products of feature values per observation in float64 (x·xᵀ; ZᵀZ of the hybrid model
 * holds x_i x_k f_j f_l): at 1e6 such a product is at most 1e24, so sums stay finite, and the ridge λ (0.25 by
 * default) stays above the rounding of one observation of x·xᵀ (ε·x² ≈ 1e-4), keeping the precision positive
 * definite. One value of 1e200 turned the statistics into Infinity/NaN for good.
 */
export const MAX_FEATURE_MAGNITUDE = 1e6;

export type PosteriorHealth = { healthy: true } | { healthy: false; reason: string };

/**
 * Whether a posterior snapshot can serve: every statistic finite, and the model builds from it — building factors
 * the precision matrices (λI + XᵀX, Li's A0 and each item's A_a for hybrid) by Cholesky, which fails unless they
 * are positive definite. Cost: one model build, O(d³) (plus O(items · d_z² d_x) for hybrid).
 */
export function posteriorHealth(snapshot: ModelSnapshot): PosteriorHealth {
  const bad = nonFiniteStatistic(snapshot.stats);
  if (bad) return { healthy: false, reason: `statistic ${bad} is not a finite number` };
  try {
    modelFromSnapshot(snapshot);
  } catch (err) {
    return { healthy: false, reason: (err as Error).message };
  }
  return { healthy: true };
}
