/** Four 32-bit lanes of a 128-bit hash. */
export type Hash128 = [number, number, number, number];

/**
 * 128-bit non-cryptographic hash of a tuple of strings (cyrb128 construction:
 * four multiply-xorshift lanes and a final avalanche). Each part's length is
 * mixed in after it, so `['ab', 'c']` and `['a', 'bc']` differ. Deterministic
 * in every JavaScript engine: Node and browsers derive the same ids.
 */
export function hash128(parts: readonly string[], seed = 0): Hash128 {
  let h1 = 1779033703 ^ seed;
  let h2 = 3144134277 ^ seed;
  let h3 = 1013904242 ^ seed;
  let h4 = 2773480762 ^ seed;
  for (let p = 0; p < parts.length; p++) {
    const s = parts[p] as string;
    const n = s.length;
    for (let i = 0; i <= n; i++) {
      // The part's length, offset past every char code, closes each part.
      const k = i < n ? s.charCodeAt(i) : 0x10000 + n;
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
    }
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

// Number#toString(16) is slow in V8; a byte table is several times faster.
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(n: number): string {
  return (
    (HEX_BYTE[n >>> 24] as string) +
    (HEX_BYTE[(n >>> 16) & 0xff] as string) +
    (HEX_BYTE[(n >>> 8) & 0xff] as string) +
    (HEX_BYTE[n & 0xff] as string)
  );
}

/** A hash as 32 lowercase hex characters (a valid Mixpanel `$insert_id`). */
export function toHex(h: Hash128): string {
  return hex32(h[0]) + hex32(h[1]) + hex32(h[2]) + hex32(h[3]);
}

/**
 * Derives another 128-bit hash from `h` and a number, without reading the
 * hashed strings again (one avalanche round per lane).
 */
export function rehash(h: Hash128, n: number): Hash128 {
  const k = n | 0;
  const hi = Math.floor(n / 0x100000000) | 0;
  let h1 = Math.imul(h[0] ^ k, 597399067);
  let h2 = Math.imul(h[1] ^ hi, 2869860233);
  let h3 = Math.imul(h[2] ^ k, 951274213);
  let h4 = Math.imul(h[3] ^ hi, 2716044179);
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  return [h1 >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}
