/**
 * MurmurHash3, x86 32-bit variant (Austin Appleby, smhasher `MurmurHash3_x86_32`), over bytes.
 *
 * `length` hashes only the first `length` bytes (for a reused scratch buffer).
 * Self-contained on purpose (no references outside its own body) so that its source text can be
 * shipped verbatim to another process or runtime and checked there (see hash.spec.ts).
 */
export function murmur3x86_32(data: Uint8Array, seed = 0, length = data.length): number {
  // Local alias: one global lookup per call (global lookups are slow inside vm contexts such as jest's).
  const imul = Math.imul;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const len = length;
  const nblocks = len >>> 2;
  let h1 = seed >>> 0;
  let i = 0;
  for (let b = 0; b < nblocks; b++, i += 4) {
    let k1 = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k1 = imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = imul(k1, c2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (imul(h1, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest > 0) {
    let k1 = 0;
    if (rest === 3) k1 ^= data[i + 2] << 16;
    if (rest >= 2) k1 ^= data[i + 1] << 8;
    k1 ^= data[i];
    k1 = imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = imul(k1, c2);
    h1 ^= k1;
  }
  h1 ^= len;
  h1 ^= h1 >>> 16;
  h1 = imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

const encoder = new TextEncoder();

/**
 * UTF-8 bytes of a JavaScript string (WHATWG encoding: a lone surrogate becomes U+FFFD, EF BF BD).
 */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

let scratch = new Uint8Array(256);

/** Encode `text` as UTF-8 into the shared scratch buffer (same bytes as {@link utf8}); returns the byte length. */
function encodeScratch(text: string): number {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3 + 64);
  const buf = scratch;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      buf[n++] = c;
    } else if (c < 0x800) {
      buf[n++] = 0xc0 | (c >> 6);
      buf[n++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        buf[n++] = 0xf0 | (c >> 18);
        buf[n++] = 0x80 | ((c >> 12) & 0x3f);
        buf[n++] = 0x80 | ((c >> 6) & 0x3f);
        buf[n++] = 0x80 | (c & 0x3f);
      } else {
        // Lone surrogate → U+FFFD.
        buf[n++] = 0xef;
        buf[n++] = 0xbf;
        buf[n++] = 0xbd;
      }
    } else {
      buf[n++] = 0xe0 | (c >> 12);
      buf[n++] = 0x80 | ((c >> 6) & 0x3f);
      buf[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/** MurmurHash3 x86 32 of the UTF-8 encoding of `text`. */
export function murmur3String(text: string, seed = 0): number {
  const n = encodeScratch(text);
  return murmur3x86_32(scratch, seed, n);
}
