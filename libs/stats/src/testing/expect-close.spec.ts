import { expectClose } from './expect-close';
import { createRng, mulberry32 } from './prng';

describe('expectClose', () => {
  it('accepts values within 1e-6 relative and near-zero values within 1e-12 absolute', () => {
    expect(() => expectClose(1.0000005, 1)).not.toThrow();
    expect(() => expectClose(5e-13, 0)).not.toThrow();
    expect(() => expectClose(null, null)).not.toThrow();
  });
  it('rejects values outside the tolerance, NaN, and null mismatches', () => {
    expect(() => expectClose(1.000002, 1)).toThrow(/relative error/);
    expect(() => expectClose(1e-10, 0)).toThrow();
    expect(() => expectClose(NaN, 1)).toThrow();
    expect(() => expectClose(1, null)).toThrow(/expected null/);
    expect(() => expectClose(null, 1)).toThrow();
  });
});

describe('seeded PRNG', () => {
  it('is deterministic per seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(mulberry32(43)()).not.toBe(xs[0]);
  });
  it('produces standard normals (mean ≈ 0, variance ≈ 1 over 100k draws)', () => {
    const rng = createRng(7);
    let s = 0;
    let s2 = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.015);
  });
});
