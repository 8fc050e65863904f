/** Four 32-bit lanes of a 128-bit hash. */
export type Hash128 = [number, number, number, number];

// The lanes of the hash just computed, read back by hash128 and rehash.
let h1 = 0;
let h2 = 0;
let h3 = 0;
let h4 = 0;

/**
 * 128-bit non-cryptographic hash of a tuple of strings (cyrb128 construction:
 * four multiply-xorshift lanes and a final avalanche). Each part's length is
 * mixed in after it, so `['ab', 'c']` and `['a', 'bc']` differ. Deterministic
 * in every JavaScript engine: Node and browsers derive the same ids.
 */
export function hash128(parts: readonly string[], seed = 0): Hash128 {
  lanes(parts, parts.length, seed);
  return result();
}

function result(): Hash128 {
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** Hashes `parts[0..count)` into h1..h4 (finalized). */
function lanes(parts: readonly string[], count: number, seed: number): void {
  let a = 1779033703 ^ seed;
  let b = 3144134277 ^ seed;
  let c = 1013904242 ^ seed;
  let d = 2773480762 ^ seed;
  for (let p = 0; p < count; p++) {
    const s = parts[p] as string;
    const n = s.length;
    for (let i = 0; i <= n; i++) {
      // The part's length, offset past every char code, closes each part.
      const k = i < n ? s.charCodeAt(i) : 0x10000 + n;
      a = b ^ Math.imul(a ^ k, 597399067);
      b = c ^ Math.imul(b ^ k, 2869860233);
      c = d ^ Math.imul(c ^ k, 951274213);
      d = a ^ Math.imul(d ^ k, 2716044179);
    }
  }
  avalanche(a, b, c, d);
}

// Number#toString(16) is slow in V8; a byte table is several times faster. Pure: a bundle without
// toHex leaves it out.
const HEX_BYTE = /*#__PURE__*/ Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

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

/** h1..h4 as 32 hex characters (hex32 reads the bits, signed or not). */
function lanesHex(): string {
  return hex32(h1) + hex32(h2) + hex32(h3) + hex32(h4);
}

/**
 * `toHex(rehash(hash128([a, b, c, d]), n))` without the arrays: the
 * `$insert_id` of an exposure event, computed once per first exposure.
 */
export function insertIdOf(a: string, b: string, c: string, d: string, n: number): string {
  const parts = PARTS;
  parts[0] = a;
  parts[1] = b;
  parts[2] = c;
  parts[3] = d;
  lanes(parts, 4, 0);
  // mix xors the lanes as 32-bit integers: signed or not, the same bits.
  mix(h1, h2, h3, h4, n);
  return lanesHex();
}
const PARTS: string[] = ['', '', '', ''];

/**
 * Derives another 128-bit hash from `h` and a number, without reading the
 * hashed strings again (one avalanche round per lane).
 */
export function rehash(h: Hash128, n: number): Hash128 {
  mix(h[0], h[1], h[2], h[3], n);
  return result();
}

function mix(x1: number, x2: number, x3: number, x4: number, n: number): void {
  const k = n | 0;
  const hi = Math.floor(n / 0x100000000) | 0;
  avalanche(
    Math.imul(x1 ^ k, 597399067),
    Math.imul(x2 ^ hi, 2869860233),
    Math.imul(x3 ^ k, 951274213),
    Math.imul(x4 ^ hi, 2716044179),
  );
}

/** The final round of both: each lane mixed with another, then all into each; leaves h1..h4. */
function avalanche(a: number, b: number, c: number, d: number): void {
  a = Math.imul(c ^ (a >>> 18), 597399067);
  b = Math.imul(d ^ (b >>> 22), 2869860233);
  c = Math.imul(a ^ (c >>> 17), 951274213);
  d = Math.imul(b ^ (d >>> 19), 2716044179);
  a ^= b ^ c ^ d;
  h1 = a;
  h2 = b ^ a;
  h3 = c ^ a;
  h4 = d ^ a;
}
