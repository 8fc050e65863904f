import { describe, expect, it } from 'vitest';
import { ExposureDeduplicator } from '../src/index.js';

describe('ExposureDeduplicator', () => {
  it('keeps recently seen keys and evicts the least recently seen ones at the cap', () => {
    // Cap 4: two generations of 2.
    const d = new ExposureDeduplicator({ maxEntries: 4, windowMs: 60_000 }, 0);
    expect(d.seen('a', 0)).toBe(false);
    expect(d.seen('b', 0)).toBe(false);
    expect(d.seen('c', 0)).toBe(false); // generation {a, b} becomes the previous one
    expect(d.seen('a', 1_000)).toBe(true); // seen again: moves to the current generation
    expect(d.seen('d', 2_000)).toBe(false); // drops {a, b}: only b is evicted, a lives on
    expect(d.evictions).toBe(1);
    expect(d.size).toBe(3);
    expect(d.seen('a', 3_000)).toBe(true);
    expect(d.seen('c', 3_000)).toBe(true);
    expect(d.seen('d', 3_000)).toBe(true);
    expect(d.seen('b', 3_000)).toBe(false); // b was the least recently seen: exported again
  });

  it('never holds more than the cap', () => {
    const d = new ExposureDeduplicator({ maxEntries: 10 }, 0);
    for (let i = 0; i < 1000; i++) {
      d.seen(`k${i % 37}`, i);
      expect(d.size).toBeLessThanOrEqual(10);
    }
  });

  it('measures the window from the export, not from the last duplicate', () => {
    const d = new ExposureDeduplicator({ windowMs: 10_000 }, 0);
    expect(d.seen('k', 0)).toBe(false);
    expect(d.seen('k', 9_000)).toBe(true);
    expect(d.seen('k', 10_000)).toBe(false);
    expect(d.seen('k', 15_000)).toBe(true);
  });

  it('stays bounded under a stream of distinct keys', () => {
    const d = new ExposureDeduplicator({ maxEntries: 1000 }, 0);
    for (let i = 0; i < 50_000; i++) d.seen(`user-${i}`, i);
    expect(d.size).toBeLessThanOrEqual(1000);
    expect(d.size).toBeGreaterThanOrEqual(500);
    expect(d.size + d.evictions).toBe(50_000);
  });

  it('falls back to defaults for nonsense options', () => {
    const d = new ExposureDeduplicator({ maxEntries: -1, windowMs: Number.NaN });
    expect(d.maxEntries).toBe(100_000);
    expect(d.windowMs).toBe(30 * 60 * 1000);
  });
});
