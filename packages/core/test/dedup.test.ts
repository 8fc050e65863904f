import { describe, expect, it } from 'vitest';
import { ExposureDeduplicator } from '../src/index.js';

/** One flag, rule and variation: only the user varies. */
const see = (d: ExposureDeduplicator, user: string, now: number) => d.seen(user, 'flag', 'rule', 'on', now);

describe('ExposureDeduplicator', () => {
  it('treats a changed rule or variation as new, and going back as new again', () => {
    const d = new ExposureDeduplicator({ windowMs: 60_000 }, 0);
    expect(d.seen('u', 'flag', 'rule', 'a', 0)).toBe(false);
    expect(d.seen('u', 'flag', 'rule', 'a', 1)).toBe(true);
    expect(d.seen('u', 'flag', 'rule', 'b', 2)).toBe(false);
    expect(d.seen('u', 'flag', 'rule', 'a', 3)).toBe(false); // the profile must follow the user back
    expect(d.seen('u', 'flag', 'other', 'a', 4)).toBe(false);
    expect(d.seen('u', 'other-flag', 'other', 'a', 5)).toBe(false);
    expect(d.size).toBe(2);
  });

  it('keeps recently seen keys and evicts the least recently seen ones at the cap', () => {
    // Cap 4: two generations of 2.
    const d = new ExposureDeduplicator({ maxEntries: 4, windowMs: 60_000 }, 0);
    expect(see(d, 'a', 0)).toBe(false);
    expect(see(d, 'b', 0)).toBe(false);
    expect(see(d, 'c', 0)).toBe(false); // generation {a, b} becomes the previous one
    expect(see(d, 'a', 1_000)).toBe(true); // seen again: moves to the current generation
    expect(see(d, 'd', 2_000)).toBe(false); // drops {a, b}: only b is evicted, a lives on
    expect(d.evictions).toBe(1);
    expect(d.size).toBe(3);
    expect(see(d, 'a', 3_000)).toBe(true);
    expect(see(d, 'c', 3_000)).toBe(true);
    expect(see(d, 'd', 3_000)).toBe(true);
    expect(see(d, 'b', 3_000)).toBe(false); // b was the least recently seen: exported again
  });

  it('never holds more than the cap', () => {
    const d = new ExposureDeduplicator({ maxEntries: 10 }, 0);
    for (let i = 0; i < 1000; i++) {
      see(d, `k${i % 37}`, i);
      expect(d.size).toBeLessThanOrEqual(10);
    }
  });

  it('measures the window from the export, not from the last duplicate', () => {
    const d = new ExposureDeduplicator({ windowMs: 10_000 }, 0);
    expect(see(d, 'k', 0)).toBe(false);
    expect(see(d, 'k', 9_000)).toBe(true);
    expect(see(d, 'k', 10_000)).toBe(false);
    expect(see(d, 'k', 15_000)).toBe(true);
  });

  it('stays bounded under a stream of distinct keys', () => {
    const d = new ExposureDeduplicator({ maxEntries: 1000 }, 0);
    for (let i = 0; i < 50_000; i++) see(d, `user-${i}`, i);
    expect(d.size).toBeLessThanOrEqual(1000);
    expect(d.size).toBeGreaterThanOrEqual(500);
    expect(d.size + d.evictions).toBe(50_000);
  });

  it('falls back to defaults for nonsense options', () => {
    const d = new ExposureDeduplicator({ maxEntries: -1, windowMs: Number.NaN });
    expect(d.maxEntries).toBe(100_000);
    expect(d.windowMs).toBe(30 * 60 * 1000);
  });

  it('keys users per flag, and flag and user boundaries do not blur', () => {
    const d = new ExposureDeduplicator({}, 0);
    expect(d.seen('bc', 'a', 'r', 'v', 0)).toBe(false);
    expect(d.seen('c', 'ab', 'r', 'v', 0)).toBe(false);
    expect(d.seen('u', 'flag-1', 'r', 'v', 0)).toBe(false);
    expect(d.seen('u', 'flag-2', 'r', 'v', 0)).toBe(false);
    expect(d.seen('u', 'flag-1', 'r', 'v', 0)).toBe(true);
    expect(d.size).toBe(4);
  });

  it('compares rule and variation exactly, whatever their hashes', () => {
    const d = new ExposureDeduplicator({}, 0);
    // Every pair is new for the same user: a hashed value could call some of them duplicates.
    for (let i = 0; i < 5000; i++) expect(d.seen('u', 'flag', `rule-${i % 7}`, `v-${i}`, 0)).toBe(false);
    expect(d.seen('u', 'flag', `rule-${4999 % 7}`, 'v-4999', 0)).toBe(true);
  });

  it('never calls a first exposure of a million distinct users a duplicate', () => {
    const d = new ExposureDeduplicator({ maxEntries: 2_000_000 }, 0);
    let duplicates = 0;
    for (let i = 0; i < 1_000_000; i++) if (d.seen(`user-${i}`, 'checkout_redesign', 'ab', 'on', 0)) duplicates++;
    expect(duplicates).toBe(0);
    expect(d.size).toBe(1_000_000);
    // The table grew many times over: every entry is still found.
    let found = 0;
    for (let i = 0; i < 1_000_000; i += 97) if (d.seen(`user-${i}`, 'checkout_redesign', 'ab', 'on', 1)) found++;
    expect(found).toBe(Math.ceil(1_000_000 / 97));
  });

  it('forgets entries without losing the others that share their probe runs', () => {
    const d = new ExposureDeduplicator({ maxEntries: 100_000 }, 0);
    for (let i = 0; i < 3000; i++) see(d, `k${i}`, 0);
    for (let i = 0; i < 3000; i += 3) d.forget(`k${i}`, 'flag');
    expect(d.size).toBe(2000);
    for (let i = 0; i < 3000; i++) expect(see(d, `k${i}`, 1)).toBe(i % 3 !== 0);
    expect(d.size).toBe(3000);
  });

  it('forgets an entry held in both generations once', () => {
    const d = new ExposureDeduplicator({ maxEntries: 4 }, 0);
    see(d, 'a', 0);
    see(d, 'b', 0);
    see(d, 'c', 0); // {a, b} becomes the previous generation
    see(d, 'a', 0); // promoted: in both
    expect(d.size).toBe(3);
    d.forget('a', 'flag');
    expect(d.size).toBe(2);
    expect(see(d, 'a', 0)).toBe(false);
  });

  it('starts over, counted as evictions, when fed more distinct rule and variation keys than any datafile has', () => {
    const d = new ExposureDeduplicator({ maxEntries: 1_000_000 }, 0);
    const n = 70_000;
    for (let i = 0; i < n; i++) expect(d.seen(`u${i}`, 'flag', 'rule', `v${i}`, 0)).toBe(false);
    expect(d.size + d.evictions).toBe(n);
    expect(d.evictions).toBeGreaterThan(0);
    expect(d.seen(`u${n - 1}`, 'flag', 'rule', `v${n - 1}`, 0)).toBe(true);
  });

  it('answers repeats as seen() would, and records nothing else', () => {
    const d = new ExposureDeduplicator({ maxEntries: 4, windowMs: 60_000 }, 0);
    const repeated = (user: string, now: number, variation = 'on') => d.repeated(user, 'flag', 'rule', variation, now);
    expect(repeated('a', 0)).toBe(false); // unknown pair: nothing interned, nothing recorded
    expect(d.size).toBe(0);
    expect(see(d, 'a', 0)).toBe(false);
    expect(repeated('a', 1_000)).toBe(true);
    expect(repeated('a', 1_000, 'off')).toBe(false); // another variation is an exposure
    expect(repeated('b', 1_000)).toBe(false); // not recorded by asking
    expect(d.size).toBe(1);
    expect(see(d, 'b', 1_000)).toBe(false);
    expect(see(d, 'c', 1_000)).toBe(false); // {a, b} becomes the previous generation
    expect(repeated('a', 2_000)).toBe(true); // moves a to the current one, as seen() would
    expect(see(d, 'd', 2_000)).toBe(false); // drops {a, b}: b is evicted, a lives on
    expect(d.evictions).toBe(1);
    expect(repeated('a', 3_000)).toBe(true);
    expect(repeated('b', 3_000)).toBe(false);
    expect(repeated('a', 61_000)).toBe(false); // the window is over
    expect(see(d, 'a', 61_000)).toBe(false);
  });

  it('tells (rule, variation) pairs apart whatever order they come in', () => {
    // The last two pairs are remembered by their strings: three taking turns pass through every path.
    const d = new ExposureDeduplicator({ windowMs: 60_000 }, 0);
    const pairs = [
      ['rule', 'a'],
      ['rule', 'b'],
      ['other', 'a'],
    ] as const;
    for (let i = 0; i < 30; i++) {
      const [rule, variation] = pairs[i % 3] as readonly [string, string];
      expect(d.seen(`u${i}`, 'flag', rule, variation, 0)).toBe(false);
    }
    for (let i = 0; i < 30; i++) {
      const [rule, variation] = pairs[i % 3] as readonly [string, string];
      const [otherRule, otherVariation] = pairs[(i + 1) % 3] as readonly [string, string];
      expect(d.repeated(`u${i}`, 'flag', rule, variation, 1_000)).toBe(true);
      expect(d.repeated(`u${i}`, 'flag', otherRule, otherVariation, 1_000)).toBe(false);
      expect(d.repeated(`u${i}`, 'flag', rule, 'unknown', 1_000)).toBe(false);
      // Equal strings that are other objects are the same pair.
      expect(d.repeated(`u${i}`, 'flag', [rule].join(''), [variation].join(''), 1_000)).toBe(true);
    }
    expect(d.seen('u0', 'flag', 'rule', 'b', 2_000)).toBe(false); // a change of variation is an exposure
    expect(d.seen('u0', 'flag', 'rule', 'b', 3_000)).toBe(true);
  });
});
