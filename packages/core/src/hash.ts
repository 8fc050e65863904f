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

// The lanes while strings are absorbed, before the final round.
let s1 = 0;
let s2 = 0;
let s3 = 0;
let s4 = 0;

/** Hashes `parts[0..count)` into h1..h4 (finalized). */
function lanes(parts: readonly string[], count: number, seed: number): void {
  start(seed);
  for (let p = 0; p < count; p++) absorb(parts[p] as string);
  avalanche(s1, s2, s3, s4);
}

function start(seed: number): void {
  s1 = 1779033703 ^ seed;
  s2 = 3144134277 ^ seed;
  s3 = 1013904242 ^ seed;
  s4 = 2773480762 ^ seed;
}

/** Mixes one part into s1..s4. */
function absorb(s: string): void {
  let a = s1;
  let b = s2;
  let c = s3;
  let d = s4;
  const n = s.length;
  for (let i = 0; i <= n; i++) {
    // The part's length, offset past every char code, closes each part.
    const k = i < n ? s.charCodeAt(i) : 0x10000 + n;
    a = b ^ Math.imul(a ^ k, 597399067);
    b = c ^ Math.imul(b ^ k, 2869860233);
    c = d ^ Math.imul(c ^ k, 951274213);
    d = a ^ Math.imul(d ^ k, 2716044179);
  }
  s1 = a;
  s2 = b;
  s3 = c;
  s4 = d;
}

/** Char codes of the hex digits, by value. */
const DIGITS = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/**
 * Four 32-bit lanes as 32 lowercase hex characters, made as one flat string:
 * concatenating per-byte pieces built cons strings and cost three times as much.
 */
function hex128(a: number, b: number, c: number, d: number): string {
  const x = DIGITS;
  // biome-ignore format: one row per lane
  return String.fromCharCode(
    x[a >>> 28] as number, x[(a >>> 24) & 15] as number, x[(a >>> 20) & 15] as number, x[(a >>> 16) & 15] as number,
    x[(a >>> 12) & 15] as number, x[(a >>> 8) & 15] as number, x[(a >>> 4) & 15] as number, x[a & 15] as number,
    x[b >>> 28] as number, x[(b >>> 24) & 15] as number, x[(b >>> 20) & 15] as number, x[(b >>> 16) & 15] as number,
    x[(b >>> 12) & 15] as number, x[(b >>> 8) & 15] as number, x[(b >>> 4) & 15] as number, x[b & 15] as number,
    x[c >>> 28] as number, x[(c >>> 24) & 15] as number, x[(c >>> 20) & 15] as number, x[(c >>> 16) & 15] as number,
    x[(c >>> 12) & 15] as number, x[(c >>> 8) & 15] as number, x[(c >>> 4) & 15] as number, x[c & 15] as number,
    x[d >>> 28] as number, x[(d >>> 24) & 15] as number, x[(d >>> 20) & 15] as number, x[(d >>> 16) & 15] as number,
    x[(d >>> 12) & 15] as number, x[(d >>> 8) & 15] as number, x[(d >>> 4) & 15] as number, x[d & 15] as number,
  );
}

/** A hash as 32 lowercase hex characters (a valid Mixpanel `$insert_id`). */
export function toHex(h: Hash128): string {
  return hex128(h[0], h[1], h[2], h[3]);
}

/**
 * `toHex(rehash(hash128([a, b, c, d]), n))` without the arrays: the
 * `$insert_id` of an exposure event, computed once per first exposure. The
 * state after `a`, `b` and `c` is kept for the next call with the same three.
 */
export function insertIdOf(a: string, b: string, c: string, d: string, n: number): string {
  insertLanes(a, b, c, d, n);
  return hex128(h1, h2, h3, h4);
}

const MULTIPLIERS = [597399067, 2869860233, 951274213, 2716044179];
const SHIFTS = [18, 22, 17, 19];

/**
 * {@link insertIdOf}, the same id, its rounds written as loops over the lanes
 * and its hex by `Number#toString`: a fraction of the code and several times
 * the time, for pages, which make few.
 */
export function compactInsertIdOf(a: string, b: string, c: string, d: string, n: number): string {
  const m = MULTIPLIERS;
  const h = [1779033703, 3144134277, 1013904242, 2773480762];
  const avalanche = () => {
    for (let j = 0; j < 4; j++)
      h[j] = Math.imul((h[(j + 2) & 3] as number) ^ ((h[j] as number) >>> (SHIFTS[j] as number)), m[j] as number);
    const x = (h[0] as number) ^ (h[1] as number) ^ (h[2] as number) ^ (h[3] as number);
    for (let j = 0; j < 4; j++) h[j] = j ? (h[j] as number) ^ x : x;
  };
  for (const s of [a, b, c, d]) {
    for (let i = 0; i <= s.length; i++) {
      const k = i < s.length ? s.charCodeAt(i) : 0x10000 + s.length;
      for (let j = 0; j < 4; j++) h[j] = (h[(j + 1) & 3] as number) ^ Math.imul((h[j] as number) ^ k, m[j] as number);
    }
  }
  avalanche();
  const lo = n | 0;
  const hi = Math.floor(n / 0x100000000) | 0;
  for (let j = 0; j < 4; j++) h[j] = Math.imul((h[j] as number) ^ (j & 1 ? hi : lo), m[j] as number);
  avalanche();
  return h.map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
}

/** The lanes of an insert id, left in h1..h4. */
function insertLanes(a: string, b: string, c: string, d: string, n: number): void {
  // An exposure's first three parts (flag, rule, variation) repeat across users: their state is kept.
  if (a === lastA && b === lastB && c === lastC) {
    s1 = p1;
    s2 = p2;
    s3 = p3;
    s4 = p4;
  } else {
    start(0);
    absorb(a);
    absorb(b);
    absorb(c);
    lastA = a;
    lastB = b;
    lastC = c;
    p1 = s1;
    p2 = s2;
    p3 = s3;
    p4 = s4;
  }
  absorb(d);
  avalanche(s1, s2, s3, s4);
  // mix xors the lanes as 32-bit integers: signed or not, the same bits.
  mix(h1, h2, h3, h4, n);
}
// The state after the last three first parts hashed, and those parts.
let lastA: string | undefined;
let lastB: string | undefined;
let lastC: string | undefined;
let p1 = 0;
let p2 = 0;
let p3 = 0;
let p4 = 0;

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
