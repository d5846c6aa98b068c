import { FLUSH_DUTY_CYCLE, flushPause } from './rank-engine';

describe('flushPause: periodic flushes take at most FLUSH_DUTY_CYCLE of the time', () => {
  it('keeps MODEL_FLUSH_MS while passes are short', () => {
    expect(flushPause(1000, 0)).toBe(1000);
    expect(flushPause(1000, 200)).toBe(1000);
  });

  it('waits longer after a long pass, so pass / (pass + pause) is the duty cycle', () => {
    for (const pass of [400, 1092, 2804]) {
      const pause = flushPause(1000, pass);
      expect(pause).toBeGreaterThan(1000);
      expect(pass / (pass + pause)).toBeCloseTo(FLUSH_DUTY_CYCLE, 12);
    }
  });
});
