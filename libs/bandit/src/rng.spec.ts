import { Rng, fnv1a32, seedToUint32 } from './rng';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference C implementation on a known state (test vector from the C reference)', () => {
    const r = Rng.fromState({ s: [0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0], spare: null });
    expect(r.nextUint32()).toBe(0xf1391922);
    expect(r.getState().s.map((x) => x >>> 0)).toEqual([0x72410269, 0xef382c52, 0x2e43bec7, 0x62432f20]);
    expect(r.nextUint32()).toBe(0x6fe53806);
    expect(r.nextUint32()).toBe(0xa5be2840);
    expect(r.nextUint32()).toBe(0xf510ee70);
  });

  it('hashes string seeds with FNV-1a over UTF-8', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(seedToUint32(-1)).toBe(0xffffffff);
    expect(() => seedToUint32(1.5)).toThrow(RangeError);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.uniform());
    expect(Array.from({ length: 8 }, () => b.uniform())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.uniform())).not.toEqual(xa);
    for (const x of xa) expect(x >= 0 && x < 1).toBe(true);
  });

  it('round-trips its state including the cached normal', () => {
    const a = new Rng('state');
    a.normal();
    const st = a.getState();
    const b = Rng.fromState(st);
    expect([b.normal(), b.normal(), b.gamma(2.5)]).toEqual([a.normal(), a.normal(), a.gamma(2.5)]);
  });

  it('split() gives an independent, reproducible child', () => {
    const a = new Rng(7).split();
    const b = new Rng(7).split();
    expect(a.uniform()).toBe(b.uniform());
  });

  it('samplePrefix is a uniform partial permutation', () => {
    const r = new Rng(1);
    const counts = [0, 0, 0, 0];
    const N = 40000;
    for (let t = 0; t < N; t++) {
      const p = r.samplePrefix(4, 2);
      if (p[0] === p[1]) throw new Error('repeat');
      counts[p[1]]++;
    }
    for (const c of counts) expect(Math.abs(c / N - 0.25)).toBeLessThan(0.01);
  });

  it('rejects invalid gamma parameters', () => {
    const r = new Rng(1);
    expect(() => r.gamma(0)).toThrow(RangeError);
    expect(() => r.gamma(1, -1)).toThrow(RangeError);
  });
});

describe("Ziggurat normals (split('ziggurat'))", () => {
  it('are standard normal: moments, tail mass beyond R and a Kolmogorov–Smirnov distance', () => {
    const r = new Rng(77).split('ziggurat');
    expect(r.normalMethod).toBe('ziggurat');
    const N = 200_000;
    const xs = r.normals(new Float64Array(N));
    let m1 = 0,
      m2 = 0,
      m4 = 0,
      tail = 0;
    for (const x of xs) {
      m1 += x;
      m2 += x * x;
      m4 += x ** 4;
      if (Math.abs(x) > 3.6541528853610088) tail++;
    }
    m1 /= N;
    m2 /= N;
    m4 /= N;
    expect(Math.abs(m1)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
    // P(|x| > R) = 2.58e-4: the tail path is exercised and has the right mass (Poisson, 5 sd)
    const expTail = 2.5802e-4 * N;
    expect(Math.abs(tail - expTail)).toBeLessThan(5 * Math.sqrt(expTail));
    // KS against Φ (erf by Abramowitz–Stegun 7.1.26, |error| < 1.5e-7): critical value at α = 0.001 is 1.95/√N
    const sorted = Float64Array.from(xs).sort();
    const phi = (x: number): number => {
      const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
      const y =
        1 -
        ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
          t *
          Math.exp((-x * x) / 2);
      return 0.5 * (1 + Math.sign(x) * y);
    };
    let ks = 0;
    for (let i = 0; i < N; i++)
      ks = Math.max(ks, Math.abs(phi(sorted[i]) - i / N), Math.abs(phi(sorted[i]) - (i + 1) / N));
    expect(ks).toBeLessThan(1.95 / Math.sqrt(N));
  });

  it('the state round-trips with the method; the default split stays polar', () => {
    const a = new Rng(3).split('ziggurat');
    a.normal();
    const b = Rng.fromState(a.getState());
    expect([b.normal(), b.gamma(2)]).toEqual([a.normal(), a.gamma(2)]);
    expect(new Rng(3).split().normalMethod).toBe('polar');
    expect(new Rng(3).split().getState().normal).toBeUndefined();
  });
});

/** Moment checks: with N draws the sample mean has sd sigma/sqrt(N); bounds are ~5 standard errors. */
describe('Rng distributions (moments)', () => {
  const N = 100000;

  it('normal: mean 0, variance 1, skewness 0, kurtosis 3', () => {
    const r = new Rng(2024);
    let m1 = 0,
      m2 = 0,
      m3 = 0,
      m4 = 0;
    for (let i = 0; i < N; i++) {
      const x = r.normal();
      m1 += x;
      m2 += x * x;
      m3 += x * x * x;
      m4 += x * x * x * x;
    }
    m1 /= N;
    m2 /= N;
    m3 /= N;
    m4 /= N;
    expect(Math.abs(m1)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(m3)).toBeLessThan(5 * Math.sqrt(15 / N));
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
  });

  it('normal: tail probabilities match Phi', () => {
    const r = new Rng(99);
    let above2 = 0,
      below1 = 0;
    for (let i = 0; i < N; i++) {
      const x = r.normal();
      if (x > 2) above2++;
      if (x < -1) below1++;
    }
    const p2 = 0.022750131948179195,
      p1 = 0.15865525393145707;
    expect(Math.abs(above2 / N - p2)).toBeLessThan(5 * Math.sqrt((p2 * (1 - p2)) / N));
    expect(Math.abs(below1 / N - p1)).toBeLessThan(5 * Math.sqrt((p1 * (1 - p1)) / N));
  });

  it.each([0.3, 1, 2.5, 6, 50])('gamma(shape=%p, scale=2): mean k*theta, variance k*theta^2', (shape) => {
    const r = new Rng(`gamma-${shape}`);
    const scale = 2;
    let s = 0,
      s2 = 0,
      min = Infinity;
    for (let i = 0; i < N; i++) {
      const x = r.gamma(shape, scale);
      if (x < min) min = x;
      s += x;
      s2 += x * x;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    const mean = s / N,
      variance = s2 / N - mean * mean;
    const mu = shape * scale,
      v = shape * scale * scale;
    expect(Math.abs(mean - mu)).toBeLessThan(5 * Math.sqrt(v / N));
    // Var of the sample variance ~ (mu4 - v^2)/N, mu4 = 3k(k+2) theta^4 for the gamma.
    const mu4 = 3 * shape * (shape + 2) * scale ** 4;
    expect(Math.abs(variance - v)).toBeLessThan(5 * Math.sqrt((mu4 - v * v) / N));
  });

  it('beta(2, 5): mean a/(a+b), variance ab/((a+b)^2(a+b+1))', () => {
    const r = new Rng(5);
    let s = 0,
      s2 = 0;
    for (let i = 0; i < N; i++) {
      const x = r.beta(2, 5);
      s += x;
      s2 += x * x;
    }
    const mean = s / N,
      variance = s2 / N - mean * mean;
    const v = (2 * 5) / (49 * 8);
    expect(Math.abs(mean - 2 / 7)).toBeLessThan(5 * Math.sqrt(v / N));
    expect(Math.abs(variance - v)).toBeLessThan(0.002);
  });
});

describe('Rng.normals', () => {
  it('produces exactly the sequence of repeated normal() calls (spare handling included)', () => {
    for (const [len, pre] of [
      [7, 0],
      [8, 1],
      [1, 1],
      [5, 3],
    ] as const) {
      const a = new Rng(`n${len}${pre}`),
        b = new Rng(`n${len}${pre}`);
      for (let i = 0; i < pre; i++) {
        a.normal();
        b.normal();
      }
      const bulk = Array.from(a.normals(new Float64Array(len)));
      const one = Array.from({ length: len }, () => b.normal());
      expect(bulk).toEqual(one);
      expect(a.normal()).toBe(b.normal());
    }
  });
});
