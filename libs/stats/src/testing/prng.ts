/**
 * Seeded pseudo-random numbers for simulation tests (no unseeded global randomness): mulberry32 for uniforms,
 * Box–Muller for standard normals.
 */
// Local bindings: property look-ups on the global Math object are ~25x slower inside jest's
// sandboxed globals, and these functions sit in hot loops.
const { cos, imul, log, sin, sqrt } = Math;
const TWO_PI = 2 * Math.PI;

export interface Rng {
  /** uniform on [0, 1) */
  uniform(): number;
  /** standard normal */
  normal(): number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  let spare: number | null = null;
  return {
    uniform: next,
    normal(): number {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = next();
      while (u === 0) u = next();
      const v = next();
      const r = sqrt(-2 * log(u));
      spare = r * sin(TWO_PI * v);
      return r * cos(TWO_PI * v);
    },
  };
}
