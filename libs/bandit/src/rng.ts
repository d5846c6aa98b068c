/**
 * Seedable pseudo-random numbers for the bandit library. Never Math.random.
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c), 128-bit state,
 * seeded by four outputs of splitmix32 from a 32-bit seed (a string seed is first hashed with FNV-1a 32 over its
 * UTF-8 bytes). Variates:
 * - `uniform()`: 53-bit double in [0, 1) from two 32-bit outputs, (a >>> 5) * 2^26 + (b >>> 6), over 2^53.
 * - `normal()`: exact standard normal by the Marsaglia polar method; the second variate of each pair is cached.
 *   A stream split with `split('ziggurat')` uses the Ziggurat instead ({@link NormalMethod}; propensity re-draws).
 * - `gamma(shape, scale)`: Marsaglia & Tsang (2000); for shape < 1, gamma(shape + 1) * U^(1/shape).
 * - `beta(a, b)`: X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
 * The exact order in which outputs are consumed is part of the contract (replayable decisions, golden tests);
 * `tools/bandit/gen_golden.py` holds an independent Python port.
 */

import { ZIGGURAT_F, ZIGGURAT_R, ZIGGURAT_X } from './ziggurat-tables';

export type Seed = number | string;

/**
 * Normal generator of a stream. `polar` (default): exact Marsaglia polar pairs. `ziggurat`: the 256-layer Ziggurat of
 * Marsaglia & Tsang (2000) — one 32-bit output picks the layer i (low 8 bits) and the sign (bit 8), the next gives
 * |x| = U·X[i] (U = u32/2³²); accepted at once when |x| < X[i+1] (~99 %), else the base layer samples the tail beyond
 * R (Marsaglia 1964: t = −ln U₁/R, y = −ln U₂ until 2y ≥ t²; x = R + t) and other layers a uniform height in the
 * layer's band against exp(−x²/2). Tables from tools/bandit/gen_golden.py (ziggurat-tables.ts). About 2× faster than
 * the polar method here; used by the propensity re-draws (`split('ziggurat')`), so decisions keep the polar variates.
 */
export type NormalMethod = 'polar' | 'ziggurat';

const UTF8 = new TextEncoder();

/** FNV-1a 32-bit hash of the UTF-8 bytes of a string. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of UTF8.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Normalises a seed to an unsigned 32-bit integer. Numbers must be integers (taken modulo 2^32). */
export function seedToUint32(seed: Seed): number {
  if (typeof seed === 'string') return fnv1a32(seed);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer or a string, got ${seed}`);
  return Number(BigInt.asUintN(32, BigInt(seed)));
}

/** splitmix32 stream used only for seeding. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

export interface RngState {
  s: [number, number, number, number];
  /** cached second normal of the last polar pair, or null */
  spare: number | null;
  /** absent: 'polar' */
  normal?: NormalMethod;
}

export class Rng {
  // State in an Int32Array and the spare normal as flag + double: uint32 fields and a number|null field would be
  // boxed heap numbers in V8, which made every variate allocate (measured: 55 ns per normal before, see bench).
  private readonly st = new Int32Array(4);
  private hasSpare = false;
  private spareValue = 0;
  private zig = false;

  constructor(seed: Seed = 0) {
    const st = { s: seedToUint32(seed) };
    this.st[0] = splitmix32(st);
    this.st[1] = splitmix32(st);
    this.st[2] = splitmix32(st);
    this.st[3] = splitmix32(st);
    if ((this.st[0] | this.st[1] | this.st[2] | this.st[3]) === 0) this.st[0] = 1;
  }

  /** A generator with an explicit 128-bit state (e.g. reference test vectors). */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  getState(): RngState {
    const st = this.st;
    const state: RngState = {
      s: [st[0] >>> 0, st[1] >>> 0, st[2] >>> 0, st[3] >>> 0],
      spare: this.hasSpare ? this.spareValue : null,
    };
    if (this.zig) state.normal = 'ziggurat';
    return state;
  }

  /** The stream's normal generator. */
  get normalMethod(): NormalMethod {
    return this.zig ? 'ziggurat' : 'polar';
  }

  setState(state: RngState): void {
    const [a, b, c, d] = state.s;
    if ((a | b | c | d) >>> 0 === 0) throw new RangeError('xoshiro128** state must not be all zero');
    this.st[0] = a;
    this.st[1] = b;
    this.st[2] = c;
    this.st[3] = d;
    this.hasSpare = state.spare !== null;
    this.spareValue = state.spare ?? 0;
    this.zig = state.normal === 'ziggurat';
  }

  /** Next unsigned 32-bit output of xoshiro128**. */
  nextUint32(): number {
    const st = this.st;
    const s1 = st[1];
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    const s3 = st[3];
    st[3] = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal variate (Marsaglia polar method, exact; the Ziggurat on a `split('ziggurat')` stream). */
  normal(): number {
    if (this.zig) return this.zigguratNormal();
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spareValue;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const m = Math.sqrt((-2 * Math.log(s)) / s);
      this.hasSpare = true;
      this.spareValue = v * m;
      return u * m;
    }
  }

  /**
   * Fills `out[from..to)` with standard normals: the same sequence as repeated normal() calls. The xoshiro step and
   * the polar pairs are inlined on local state (written back once): ~3× faster than calling uniform() per variate,
   * and this loop feeds every propensity re-draw.
   */
  normals(out: Float64Array, from = 0, to = out.length): Float64Array {
    if (this.zig) return this.zigguratNormals(out, from, to);
    let i = from;
    if (i < to && this.hasSpare) {
      out[i++] = this.spareValue;
      this.hasSpare = false;
    }
    if (i >= to) return out;
    const st = this.st;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    while (i < to) {
      // four xoshiro128** outputs → two 53-bit uniforms u, v in [0, 1), exactly as uniform() builds them
      let m = Math.imul(s1, 5);
      let r0 = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      let r1 = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const u = (2 * ((r0 >>> 5) * 67108864 + (r1 >>> 6))) / 9007199254740992 - 1;
      m = Math.imul(s1, 5);
      r0 = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      r1 = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const v = (2 * ((r0 >>> 5) * 67108864 + (r1 >>> 6))) / 9007199254740992 - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = u * f;
      if (i < to) out[i++] = v * f;
      else {
        this.hasSpare = true;
        this.spareValue = v * f;
      }
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return out;
  }

  /** One Ziggurat normal (see {@link NormalMethod}); the rare slow paths of {@link zigguratNormals}. */
  private zigguratNormal(): number {
    for (;;) {
      const a = this.nextUint32();
      const i = a & 255;
      const x = this.nextUint32() * 2.3283064365386963e-10 * ZIGGURAT_X[i];
      if (x < ZIGGURAT_X[i + 1]) return a & 256 ? -x : x;
      const r = this.zigguratSlow(i, x);
      if (r === r) return a & 256 ? -r : r; // NaN: rejected, draw again
    }
  }

  /** Tail (layer 0) or wedge test of layer i for a candidate |x|; NaN when rejected. */
  private zigguratSlow(i: number, x: number): number {
    if (i === 0) {
      let t: number;
      let y: number;
      do {
        t = -Math.log(1 - this.uniform()) / ZIGGURAT_R;
        y = -Math.log(1 - this.uniform());
      } while (2 * y < t * t);
      return ZIGGURAT_R + t;
    }
    return ZIGGURAT_F[i] + (ZIGGURAT_F[i + 1] - ZIGGURAT_F[i]) * this.uniform() < Math.exp(-0.5 * x * x) ? x : NaN;
  }

  /** normals() of a Ziggurat stream: the fast path on inlined local xoshiro state (as the polar loop). */
  private zigguratNormals(out: Float64Array, from: number, to: number): Float64Array {
    const st = this.st;
    const X = ZIGGURAT_X;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    for (let k = from; k < to;) {
      let m = Math.imul(s1, 5);
      const a = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const b = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const i = a & 255;
      const x = b * 2.3283064365386963e-10 * X[i];
      if (x < X[i + 1]) {
        out[k++] = a & 256 ? -x : x;
        continue;
      }
      // slow path: hand the state back, consume the extra variates through the methods, take it again
      st[0] = s0;
      st[1] = s1;
      st[2] = s2;
      st[3] = s3;
      const r = this.zigguratSlow(i, x);
      s0 = st[0];
      s1 = st[1];
      s2 = st[2];
      s3 = st[3];
      if (r === r) out[k++] = a & 256 ? -r : r;
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return out;
  }

  /** Gamma(shape, scale) variate (Marsaglia & Tsang 2000, with the shape < 1 boost). Mean shape * scale. */
  gamma(shape: number, scale = 1): number {
    if (!(shape > 0 && Number.isFinite(shape))) throw new RangeError(`gamma shape must be > 0, got ${shape}`);
    if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`gamma scale must be > 0, got ${scale}`);
    if (shape < 1) {
      const g = this.gamma(shape + 1, 1);
      const u = 1 - this.uniform(); // (0, 1]
      return g * Math.pow(u, 1 / shape) * scale;
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      let v = 1 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      const u = this.uniform();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v * scale;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /** Beta(a, b) variate via two gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a, 1);
    const y = this.gamma(b, 1);
    return x / (x + y);
  }

  /**
   * An independent child generator seeded from four outputs of this one (used for the propensity re-draws,
   * so the number of re-draws never changes the decision itself).
   */
  split(normal: NormalMethod = 'polar'): Rng {
    const child = new Rng(0);
    const s: [number, number, number, number] = [
      this.nextUint32(),
      this.nextUint32(),
      this.nextUint32(),
      this.nextUint32(),
    ];
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    child.setState({ s, spare: null, normal });
    return child;
  }

  /** The first k entries of a uniformly random permutation of 0..n-1 (partial Fisher–Yates). */
  samplePrefix(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i);
    const m = Math.min(k, n);
    for (let i = 0; i < m; i++) {
      const j = i + this.int(n - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx.slice(0, m);
  }
}

/** Convenience: a new generator from a seed. */
export function createRng(seed: Seed): Rng {
  return new Rng(seed);
}
