import { describe, expect, it } from 'vitest';
import { parseRetryAfter, resolveRetryOptions, retryDelayMs } from '../src/retry.js';

describe('retry schedule', () => {
  const options = resolveRetryOptions({ initialDelayMs: 100, maxDelayMs: 1000, maxJitterMs: 0 });

  it.each([
    [1, undefined, 100],
    [2, undefined, 200],
    [5, undefined, 1000],
    [1, 0, 100],
    [3, 0, 400],
    [1, 250, 250],
    [3, 250, 400],
    [1, 60_000, 1000],
  ])('attempt %i with Retry-After %s ms waits %i ms', (attempt, retryAfterMs, expected) => {
    expect(retryDelayMs(attempt, options, retryAfterMs)).toBe(expected);
  });

  it('adds jitter to the backoff only', () => {
    const jittered = resolveRetryOptions({ initialDelayMs: 100, maxDelayMs: 1000, maxJitterMs: 50 });
    for (let i = 0; i < 50; i++) {
      const delay = retryDelayMs(1, jittered, 0);
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(150);
    }
  });

  it('parses Retry-After seconds and dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0.5 ', now)).toBe(500);
    expect(parseRetryAfter(new Date(now + 2000).toUTCString(), now)).toBe(2000);
    expect(parseRetryAfter(new Date(now - 2000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
