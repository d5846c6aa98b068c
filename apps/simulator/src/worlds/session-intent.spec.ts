import { runSessionIntent, sessionIntentTable, type SessionIntentResult } from './session-intent';

// Issue 17 part 4: in a world where the session's recent clicks reveal what the unit wants now, the sequence ranker
// (the GRU fed the unit's history) beats the same ranker without history, on a fixed seed.
describe('session-intent world: the sequence ranker beats the same ranker without history', () => {
  let byPolicy: Record<string, SessionIntentResult>;
  beforeAll(async () => {
    byPolicy = Object.fromEntries((await runSessionIntent({ seed: 17, sessions: 1000 })).map((r) => [r.policy, r]));
  });

  it('clicks more in all, with the same draws, and the gap is history (none at step 1)', () => {
    const seq = byPolicy['sequence'];
    const plain = byPolicy['no-history'];
    expect(seq.decisions).toBe(12_000);
    console.log(`session-intent, seed 17, 1,000 sessions × 12 steps:\n${sessionIntentTable(Object.values(byPolicy))}`);
    // Step 1: no history for either, the same model: identical choices, identical clicks.
    expect(seq.clickRateByStep[0]).toBe(plain.clickRateByStep[0]);
    // Two-proportion z on 12,000 decisions each: the margin asked is well beyond noise (z > 5).
    const p = (seq.clicks + plain.clicks) / (2 * seq.decisions);
    const z = (seq.clickRate - plain.clickRate) / Math.sqrt((2 * p * (1 - p)) / seq.decisions);
    expect(z).toBeGreaterThan(5);
    expect(seq.clickRate).toBeGreaterThan(plain.clickRate * 1.2);
    // Sanity: both beat random, neither beats the oracle (which knows the intent).
    expect(plain.clickRate).toBeGreaterThan(byPolicy['random'].clickRate);
    expect(seq.clickRate).toBeLessThan(byPolicy['oracle'].clickRate);
  });
});
