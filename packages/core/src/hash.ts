/**
 * 128-bit non-cryptographic string hash (cyrb128 construction: four
 * multiply-xorshift lanes with a final avalanche). Deterministic in every
 * JavaScript engine, so Node and browsers derive the same ids.
 */
export function hash128(input: string, seed = 0): [number, number, number, number] {
  let h1 = 1779033703 ^ seed;
  let h2 = 3144134277 ^ seed;
  let h3 = 1013904242 ^ seed;
  let h4 = 2773480762 ^ seed;
  for (let i = 0; i < input.length; i++) {
    const k = input.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
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

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** 64 bits of {@link hash128} as 16 lowercase hex characters. */
export function hash64Hex(input: string): string {
  const h = hash128(input);
  return hex32(h[0]) + hex32(h[1]);
}

/** 128 bits of {@link hash128} as 32 lowercase hex characters. */
export function hash128Hex(input: string, seed = 0): string {
  const h = hash128(input, seed);
  return hex32(h[0]) + hex32(h[1]) + hex32(h[2]) + hex32(h[3]);
}
