/** Seeded test data for the property tests (no Math.random). */

/** mulberry32: a small seeded 32-bit PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SHAPES = ['u-', 'user_', '', 'ünït-', '用户', '🙂-'];

/** `n` distinct unit ids of mixed shapes (sequential, hex, UUID-like, non-ASCII), reproducible from `seed`. */
export function unitIds(n: number, seed = 1): string[] {
  const rand = mulberry32(seed);
  const hex = (k: number) =>
    Math.floor(rand() * 16 ** k)
      .toString(16)
      .padStart(k, '0');
  const ids: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    switch (i % 4) {
      case 0:
        ids[i] = `${SHAPES[i % SHAPES.length]}${i}`;
        break;
      case 1:
        ids[i] = `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(6)}${i.toString(16).padStart(6, '0')}`;
        break;
      case 2:
        ids[i] = `${SHAPES[(i >> 2) % SHAPES.length]}${hex(6)}.${i}`;
        break;
      default:
        ids[i] = String(1_000_000_000 + i * 7919);
    }
  }
  return ids;
}
