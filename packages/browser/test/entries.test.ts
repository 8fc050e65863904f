import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const dist = (file: string) => JSON.stringify(fileURLToPath(new URL(`../dist/${file}`, import.meta.url)));
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The minified bundle of an app importing `imports`, as the size bench builds it. */
async function bundle(imports: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'optimizely-mixpanel-entries-'));
  dirs.push(dir);
  const entry = join(dir, 'entry.js');
  writeFileSync(entry, imports);
  await build({
    logLevel: 'error',
    configFile: false,
    build: {
      outDir: join(dir, 'out'),
      minify: true,
      lib: { entry, formats: ['iife'], name: 'app', fileName: 'bundle' },
      rollupOptions: { external: [/^@optimizely\/optimizely-sdk/, 'mixpanel-browser'] },
    },
  });
  const out = join(dir, 'out');
  return readFileSync(join(out, readdirSync(out).find((f) => f.endsWith('.js')) as string), 'utf8');
}

// What each opt-in entry brings: the active span and its event, the hook's result checks, the allowlist,
// Mixpanel's experiment format.
const OPT_IN: Record<string, string[]> = {
  'trace.js': ['feature_flag.evaluation', 'getActiveSpan'],
  'hook.js': ['invalid_hook_result'],
  'attributes.js': ['attributeAllowlist'],
  'event-format.js': ['$experiment_started'],
};

describe('entries', () => {
  it('the main entry leaves out what the opt-in entries bring, and each brings its own', async () => {
    const main = await bundle(`export * from ${dist('index.js')};`);
    expect(main).toContain('enableOptimizelyMixpanel');
    // Nor the server's dedup table.
    for (const absent of [...Object.values(OPT_IN).flat(), 'Int32Array']) expect(main).not.toContain(absent);
    for (const [file, markers] of Object.entries(OPT_IN)) {
      const withEntry = await bundle(`export * from ${dist('index.js')};\nexport * from ${dist(file)};`);
      for (const marker of markers) expect(withEntry).toContain(marker);
    }
  }, 60_000);
});
