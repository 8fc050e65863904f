// The size budget of what a page ships (bench/size.mjs: the main entry bundled with core, minified
// and gzipped): a byte count, not a timing, so it holds in the tests as well as in the benchmark.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('bundle size', () => {
  it('keeps the main entry with core under 4 KB gzipped', () => {
    const script = fileURLToPath(new URL('../bench/size.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
    const gzipped = Number(/main entry bundled with core, minified: \d+ B, gzipped: (\d+) B/.exec(out)?.[1]);
    expect(gzipped).toBeGreaterThan(1000);
    expect(gzipped).toBeLessThan(4096);
  }, 60_000);
});
