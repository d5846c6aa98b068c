import { RankerInputError } from './errors';

export interface ScoreResult {
  /** One score per candidate, in input order; higher is better. */
  scores: Float32Array;
  /** Row-major `n × embeddingDim`, when the model exposes an embedding output. */
  embeddings?: Float32Array;
  embeddingDim?: number;
}

export interface ScorerMetadata {
  /** `name@version`, or `none` for the identity scorer. */
  ref: string;
  name: string;
  version: number | null;
  /** `split` / `concat` for ONNX models, `none` for the identity scorer. */
  kind: 'split' | 'concat' | 'none';
  /** Context feature count C (null: accepts any, identity scorer only). */
  contextDim: number | null;
  /** Item feature count D (null: accepts any, identity scorer only). */
  itemDim: number | null;
  /** Embedding width K, or null when the model has no embedding output. */
  embeddingDim: number | null;
  /** Length of the history input (the unit's last interacted items), or null when the model has none. */
  historyLength: number | null;
}

/**
 * Scores a candidate set for one request. Implementations score all `n` candidates in one batch.
 *
 * - `context`: C numbers;
 * - `items`: row-major `n × D` (item i's features at `[i*D, (i+1)*D)`);
 * - `history` (models with `metadata.historyLength` K only): row-major `K × D`, the unit's last interacted items'
 *   features, newest first, zero rows for padding; omitted means no history (all zeros).
 */
export interface Scorer {
  readonly metadata: ScorerMetadata;
  score(context: Float32Array | number[], items: Float32Array, n: number, history?: Float32Array): Promise<ScoreResult>;
  /** Release native resources; idempotent; waits for in-flight `score` calls. */
  dispose(): Promise<void>;
}

export function checkCount(n: number, maxItems: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RankerInputError('n', `must be a non-negative integer, got ${n}`);
  if (n > maxItems) throw new RankerInputError('n', `${n} candidates exceed the limit of ${maxItems} per scoring`);
}

/**
 * `ranker.model: "none"`: keeps the input order. Candidate i gets score n − i (descending by position), so a
 * greedy policy reproduces the request's order and `topN` shortlists its first candidates. No embedding.
 * Features are ignored (any dimensions accepted).
 */
export class NoneScorer implements Scorer {
  readonly metadata: ScorerMetadata = {
    ref: 'none',
    name: 'none',
    version: null,
    kind: 'none',
    contextDim: null,
    itemDim: null,
    embeddingDim: null,
    historyLength: null,
  };

  constructor(private readonly maxItems = 10_000) {}

  async score(_context: Float32Array | number[], _items: Float32Array, n: number): Promise<ScoreResult> {
    checkCount(n, this.maxItems);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) scores[i] = n - i;
    return { scores };
  }

  async dispose(): Promise<void> {}
}
