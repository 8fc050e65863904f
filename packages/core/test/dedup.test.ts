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

  it('snapshots the entries inside the window and restores them elsewhere', () => {
    const a = new ExposureDeduplicator({ windowMs: 60_000 }, 1_000_000);
    a.seen('u1', 'flag', 'rule', 'on', 1_000_000);
    a.seen('u2', 'flag', 'rule', 'off', 1_030_000);
    const snapshot = a.snapshot(1_070_000); // u1 is out of the window by now
    expect(snapshot).toEqual([['flag', 'u2', 'rule', 'off', 1_030_000]]);
    const b = new ExposureDeduplicator({ windowMs: 60_000 }, 2_000_000);
    b.restore(JSON.parse(JSON.stringify(snapshot)));
    b.restore([null, ['x'], ['flag', 'u3', 'rule', 'on', 'not a time']]);
    expect(b.size).toBe(1);
    expect(b.seen('u2', 'flag', 'rule', 'off', 1_080_000)).toBe(true);
    expect(b.seen('u2', 'flag', 'rule', 'off', 1_091_000)).toBe(false);
  });
});
