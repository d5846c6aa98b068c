import { mulberry32, OnnxScorer, type OnnxScorerOptions } from '@slotwise/ranker';
import { loadFixtureModel } from './index';

export interface RankerBenchOptions extends Omit<OnnxScorerOptions, 'ref'> {
  /** Candidates per scoring (default 500). */
  candidates?: number;
  /** Timed scorings (default 200) after `warmup` untimed ones (default 20). */
  iterations?: number;
  warmup?: number;
  /** Which fixture signature to time (default `split`, the 16 + 16 feature MLP with embedding output). */
  variant?: 'split' | 'concat';
}

export interface RankerBenchResult {
  name: string;
  candidates: number;
  features: number;
  iterations: number;
  /** Mean wall time of one `score` call (all candidates in one inference), in microseconds. */
  usPerScoring: number;
  p50Us: number;
  p95Us: number;
}

/**
 * Times `OnnxScorer.score` on the fixture model: `candidates` items × 16 features plus a 16-feature context,
 * scored one call after another (no concurrency), with the scorer's default single intra-op thread.
 */
export async function benchRanker(options: RankerBenchOptions = {}): Promise<RankerBenchResult> {
  const { candidates = 500, iterations = 200, warmup = 20, variant = 'split', ...scorerOptions } = options;
  const { bytes, signature } = loadFixtureModel(variant);
  const scorer = await OnnxScorer.create(bytes, signature, { ...scorerOptions, ref: `news-mlp-fixture@1` });
  try {
    const c = scorer.metadata.contextDim ?? 0;
    const d = scorer.metadata.itemDim ?? 0;
    const rand = mulberry32(1);
    const context = Float32Array.from({ length: c }, () => rand() * 2 - 1);
    const items = Float32Array.from({ length: candidates * d }, () => rand() * 2 - 1);
    for (let i = 0; i < warmup; i++) await scorer.score(context, items, candidates);
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const t0 = process.hrtime.bigint();
      await scorer.score(context, items, candidates);
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return {
      name: `ranker: ${variant} MLP, ${candidates} candidates × ${d} features`,
      candidates,
      features: d,
      iterations,
      usPerScoring: times.reduce((s, t) => s + t, 0) / times.length,
      p50Us: q(0.5),
      p95Us: q(0.95),
    };
  } finally {
    await scorer.dispose();
  }
}
