/** Feature builders: how a linear model turns (context, candidate) into its regression vector. */
import { type Candidate, type FeatureNames, type Vector, checkVector } from './types';

export type FeatureMapKind = 'interaction' | 'concat' | 'item' | 'embedding';

export interface FeatureMapConfig {
  kind: FeatureMapKind;
  contextDim: number;
  itemDim: number;
  /** embedding length (kind 'embedding') */
  embeddingDim?: number;
  /** prepend a constant 1 (for 'embedding'; the other kinds always include it) */
  intercept?: boolean;
}

export interface FeatureMap {
  readonly config: FeatureMapConfig;
  readonly dim: number;
  encode(context: Vector, candidate: Candidate, out?: Float64Array): Float64Array;
  names(names?: FeatureNames): string[];
}

function itemVector(c: Candidate, itemDim: number): Vector {
  if (c.features === undefined) return new Float64Array(itemDim);
  return checkVector(c.features, itemDim, `candidate ${c.id} features`);
}

function contextNames(n: FeatureNames | undefined, d: number): string[] {
  return Array.from({ length: d }, (_, i) => n?.context[i] ?? `context[${i}]`);
}
function itemNames(n: FeatureNames | undefined, d: number): string[] {
  return Array.from({ length: d }, (_, i) => n?.item[i] ?? `item[${i}]`);
}

/**
 * - `interaction` (default): [1, context] ⊗ [1, item], flattened row-major: bias, item, context, context×item.
 * - `concat`: [1, context, item] (context cannot change the order of a slate; useful as a baseline).
 * - `item`: [1, item].
 * - `embedding`: [1?, embedding] (neural-linear).
 */
export function createFeatureMap(config: FeatureMapConfig): FeatureMap {
  const { kind, contextDim: c, itemDim: m } = config;
  if (!Number.isInteger(c) || c < 0 || !Number.isInteger(m) || m < 0)
    throw new RangeError('contextDim and itemDim must be non-negative integers');
  switch (kind) {
    case 'interaction': {
      const dim = (c + 1) * (m + 1);
      return {
        config,
        dim,
        encode(context, cand, out = new Float64Array(dim)) {
          checkVector(context, c, 'context');
          const it = itemVector(cand, m);
          for (let a = 0; a <= c; a++) {
            const xa = a === 0 ? 1 : context[a - 1];
            const base = a * (m + 1);
            out[base] = xa;
            for (let b = 1; b <= m; b++) out[base + b] = xa * it[b - 1];
          }
          return out;
        },
        names(n) {
          const cn = ['1', ...contextNames(n, c)];
          const inames = ['1', ...itemNames(n, m)];
          const out: string[] = [];
          for (let a = 0; a <= c; a++)
            for (let b = 0; b <= m; b++)
              out.push(a === 0 ? (b === 0 ? 'bias' : inames[b]) : b === 0 ? cn[a] : `${cn[a]}×${inames[b]}`);
          return out;
        },
      };
    }
    case 'concat': {
      const dim = 1 + c + m;
      return {
        config,
        dim,
        encode(context, cand, out = new Float64Array(dim)) {
          checkVector(context, c, 'context');
          const it = itemVector(cand, m);
          out[0] = 1;
          for (let a = 0; a < c; a++) out[1 + a] = context[a];
          for (let b = 0; b < m; b++) out[1 + c + b] = it[b];
          return out;
        },
        names: (n) => ['bias', ...contextNames(n, c), ...itemNames(n, m)],
      };
    }
    case 'item': {
      const dim = 1 + m;
      return {
        config,
        dim,
        encode(_context, cand, out = new Float64Array(dim)) {
          const it = itemVector(cand, m);
          out[0] = 1;
          for (let b = 0; b < m; b++) out[1 + b] = it[b];
          return out;
        },
        names: (n) => ['bias', ...itemNames(n, m)],
      };
    }
    case 'embedding': {
      const e = config.embeddingDim;
      if (!Number.isInteger(e) || (e as number) <= 0) throw new RangeError('embeddingDim must be a positive integer');
      const k = e as number;
      const off = config.intercept === false ? 0 : 1;
      const dim = k + off;
      return {
        config,
        dim,
        encode(_context, cand, out = new Float64Array(dim)) {
          const emb = checkVector(cand.embedding, k, `candidate ${cand.id} embedding`);
          if (off) out[0] = 1;
          for (let i = 0; i < k; i++) out[off + i] = emb[i];
          return out;
        },
        names: () => [...(off ? ['bias'] : []), ...Array.from({ length: k }, (_, i) => `embedding[${i}]`)],
      };
    }
    default:
      throw new RangeError(`unknown feature map "${String(kind)}"`);
  }
}
