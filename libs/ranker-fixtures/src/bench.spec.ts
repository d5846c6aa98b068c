/** @jest-environment ./libs/ranker/testing/onnx-jest-environment.js */
import { benchRanker } from './bench';

describe('benchRanker', () => {
  it('returns microseconds per scoring of 500 candidates × 16 features', async () => {
    const r = await benchRanker({ iterations: 20, warmup: 5 });
    expect(r).toMatchObject({ candidates: 500, features: 16, iterations: 20 });
    expect(r.usPerScoring).toBeGreaterThan(0);
    expect(r.usPerScoring).toBeLessThan(1e6);
    expect(r.p50Us).toBeLessThanOrEqual(r.p95Us);
  });
});
