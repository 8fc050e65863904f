import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from '../src/rate-limited-log.js';

describe('RateLimitedLog', () => {
  it('writes each kind once per interval and says how many it left out', () => {
    const lines: string[] = [];
    const write = (message: string) => lines.push(message);
    let now = 0;
    const log = new RateLimitedLog(
      { error: write, warn: write, info: write, debug: write, verbose: write },
      10_000,
      () => now,
    );
    for (let i = 0; i < 5; i++) log.error('401', 'refused');
    log.warn('queue_full', 'full');
    now = 9_999;
    log.error('401', 'refused');
    now = 10_000;
    log.error('401', 'refused');
    expect(lines).toEqual(['refused', 'full', 'refused (5 more like this since the last)']);
  });
});
