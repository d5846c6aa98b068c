import { existsSync, readFileSync } from 'fs';
import { resolve } from 'path';
import type { ModelSignature } from '@slotwise/ranker';

/**
 * Test fixtures and benchmark helpers of libs/ranker, kept out of its production barrel (`@slotwise/ranker`): the
 * fixture models' files stay in libs/ranker/fixtures. Import from `@slotwise/ranker-fixtures` in tests, benchmarks,
 * the simulator and the demo.
 *
 * The test fixture models built by `tools/ranker/make_fixture_model.py` (see libs/ranker/README.md).
 * Resolved beside this source folder, or from the working directory when running from a build output.
 */
export function fixturePath(file: string): string {
  // Beside the sources, beside the build (dist/libs/ranker/src → libs/ranker/fixtures), or under the working directory.
  const candidates = [
    resolve(__dirname, '..', '..', 'ranker', 'fixtures', file),
    resolve(__dirname, '..', '..', '..', '..', 'libs', 'ranker', 'fixtures', file),
    resolve(process.cwd(), 'libs', 'ranker', 'fixtures', file),
  ];
  for (const p of candidates) if (existsSync(p)) return p;
  throw new Error(`ranker fixture ${file} not found (looked in ${candidates.join(', ')})`);
}

export const FIXTURE_SPLIT_SIGNATURE: ModelSignature = {
  kind: 'split',
  contextInput: 'context',
  itemsInput: 'items',
  scoreOutput: 'score',
  embeddingOutput: 'embedding',
};

export const FIXTURE_CONCAT_SIGNATURE: ModelSignature = {
  kind: 'concat',
  input: 'x',
  scoreOutput: 'score',
  contextDim: 16,
};

export function loadFixtureModel(variant: 'split' | 'concat' = 'split'): {
  bytes: Uint8Array;
  signature: ModelSignature;
} {
  const file = variant === 'split' ? 'news-mlp.onnx' : 'news-mlp-concat.onnx';
  return {
    bytes: new Uint8Array(readFileSync(fixturePath(file))),
    signature: variant === 'split' ? FIXTURE_SPLIT_SIGNATURE : FIXTURE_CONCAT_SIGNATURE,
  };
}

export type { RankerBenchOptions, RankerBenchResult } from './bench';
export { benchRanker } from './bench';
