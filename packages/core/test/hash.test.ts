import { describe, expect, it } from 'vitest';
import { compactInsertIdOf, hash128, insertIdOf, rehash, toHex } from '../src/hash.js';
import { RecordBuilder, RememberingRecordBuilder } from '../src/records.js';

// Outputs of the first release: ids derived by any version must stay the same, or Mixpanel would
// stop deduplicating an exposure sent by two processes on different versions.
const VECTORS: Array<[string[], number, string, string, string]> = [
  [[], 0, '027ae52ecfc796215593990d4b41437c', 'de6fd34a619105eef7116f30192b7ab8', '5dc617e5370e1eb23e9e0951a1256540'],
  [[''], 0, '30a83ce52c6589ce870dce4c75d607cc', '6f3b7f18a146148341927add3fd39759', '970409e77ecc62765b5fbaeb8c9ca99d'],
  [
    ['a'],
    0,
    '510f14548c3b62e5fa1b2cc15f191094',
    'b7f63b493c1564afed70a405a25939ff',
    '7820fc095cb2b9b1f88a9264271df74e',
  ],
  [
    ['ab', 'c'],
    0,
    'c568cbf334e1c74cc5004efe542bd7d5',
    '06c1d5d1562751983f39e86dbb8da6db',
    '3719e7cfda01ca333d203d608c6ff4d1',
  ],
  [
    ['a', 'bc'],
    0,
    '9d857086d6e7071cb935828ea7e59c5c',
    '2aadd5c10433595435947f2038e2504c',
    'c5e3645367bdbc902528acabf142cf3b',
  ],
  [
    ['user-123', 'checkout_redesign', 'checkout_redesign_ab', 'variation_a'],
    0,
    'b1952b976a7db85578c40badc318a1be',
    'ab784b34e5bac5ec18f050489cec33d6',
    '62987cd4e4b05182289f32028d6efd2a',
  ],
  [
    ['ünïcødé 🎉', '', 'x'],
    7,
    '1a9be0d69d66ca04f0ac05f8ecc0797c',
    'eef91094dfb70e7d79e24e5f6f9d10d1',
    '29166ed0181ed4c3180829944826f1ad',
  ],
  [
    ['user-1', 'f'],
    -5,
    'a974952ca477a7a0df4aff1b6904548a',
    '1c1b80d9ba41df8d223f4bcaf2cbef1d',
    '7eb354da7d70ce046f58820d12747bcf',
  ],
];

describe('hash128', () => {
  it('derives the same ids as ever', () => {
    for (const [parts, seed, hash, bucket, large] of VECTORS) {
      expect(toHex(hash128(parts, seed))).toBe(hash);
      expect(toHex(rehash(hash128(parts, seed), 29_000_123))).toBe(bucket);
      expect(toHex(rehash(hash128(parts, seed), 2 ** 40 + 3))).toBe(large);
      if (parts.length === 4 && seed === 0) {
        const [a, b, c, d] = parts as [string, string, string, string];
        expect(insertIdOf(a, b, c, d, 29_000_123)).toBe(bucket);
        expect(insertIdOf(a, b, c, d, 2 ** 40 + 3)).toBe(large);
      }
    }
  });

  it('gives insert ids equal to the general form, for any tuple and bucket', () => {
    const parts = ['', 'a', 'ünïcødé 🎉', 'user-123', 'x'.repeat(300), '\uD800', '"'];
    for (const a of parts)
      for (const b of parts.slice(0, 3))
        for (const n of [0, 1, 29_000_123, 2 ** 40 + 3]) {
          expect(insertIdOf(a, b, 'rule', 'variation', n)).toBe(toHex(rehash(hash128([a, b, 'rule', 'variation']), n)));
        }
    // The first three parts repeated, with the last changing, and equal strings that are other objects.
    for (const d of parts)
      for (const c of ['rule', ['ru', 'le'].join(''), 'rulf']) {
        expect(insertIdOf('flag', 'ab', c, d, 7)).toBe(toHex(rehash(hash128(['flag', 'ab', c, d]), 7)));
        expect(insertIdOf('flag', 'a', `b${c}`, d, 7)).toBe(toHex(rehash(hash128(['flag', 'a', `b${c}`, d]), 7)));
      }
  });

  it('gives the same insert ids with the compact form as with the fast one', () => {
    const parts = ['', 'a', 'ünïcødé 🎉', 'user-123', 'x'.repeat(300), '\uD800', '"'];
    for (const a of parts)
      for (const b of parts)
        for (const n of [0, 1, 29_000_123, 2 ** 40 + 3, -5])
          expect(compactInsertIdOf(a, b, 'rule', b, n)).toBe(insertIdOf(a, b, 'rule', b, n));
    for (const [parts] of VECTORS) {
      const [a = '', b = '', c = '', d = ''] = parts;
      for (const n of [0, 1, 29_000_123, 2 ** 40 + 3])
        expect(compactInsertIdOf(a, b, c, d, n)).toBe(insertIdOf(a, b, c, d, n));
    }
    // Lanes with leading zero digits and the sign bit set, where a hex written by toString could differ.
    for (let i = 0; i < 2000; i++) {
      const a = `user-${i}`;
      const id = insertIdOf(a, 'flag', 'rule', 'variation', i);
      expect(compactInsertIdOf(a, 'flag', 'rule', 'variation', i)).toBe(id);
      expect(id).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it("gives a page's builder and a server's the same insert ids, flag, rule and variation hashed first", () => {
    const page = new RecordBuilder({}, undefined);
    const server = new RememberingRecordBuilder({}, undefined);
    for (const user of ['user-1', 'ünïcødé 🎉', '', 'x'.repeat(300)])
      for (const [flag, rule, variation] of [
        ['flag', 'rule', 'a'],
        ['flag', 'rule', 'b'],
        ['other', 'rule', 'a'],
      ] as const) {
        const id = toHex(rehash(hash128([flag, rule, variation, user]), 7));
        expect(server.insertId(user, flag, rule, variation, 7)).toBe(id);
        expect(page.insertId(user, flag, rule, variation, 7)).toBe(id);
      }
  });
});
