// Gzipped size of what an app ships for this package: the main entry bundled with
// @optimizely-mixpanel/core and minified, peers (the SDK, mixpanel-browser) excluded; then the same
// with every opt-in entry (/trace, /hook, /attributes, /event-format) bundled too, as an app using them all ships.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const dist = (file) => JSON.stringify(fileURLToPath(new URL(`../dist/${file}`, import.meta.url)));
const OPT_INS = ['trace.js', 'hook.js', 'attributes.js', 'event-format.js'];
const TARGET = 4096;

/** Minified and gzipped bytes of a bundle of `source` (an ES module re-exporting entries). */
async function measure(source) {
  const dir = mkdtempSync(join(tmpdir(), 'optimizely-mixpanel-size-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, source);
    const outDir = join(dir, 'out');
    await build({
      logLevel: 'error',
      configFile: false,
      build: {
        outDir,
        minify: true,
        // IIFE: Vite keeps whitespace in minified ES libraries; an app's own build minifies fully, as here.
        lib: { entry, formats: ['iife'], name: 'optimizelyMixpanel', fileName: 'bundle' },
        rollupOptions: { external: [/^@optimizely\/optimizely-sdk/, 'mixpanel-browser'] },
      },
    });
    const code = readFileSync(
      join(
        outDir,
        readdirSync(outDir).find((f) => f.endsWith('.js')),
      ),
    );
    return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const main = await measure(`export * from ${dist('index.js')};\n`);
const all = await measure(
  [`export * from ${dist('index.js')};`, ...OPT_INS.map((f) => `export * from ${dist(f)};`)].join('\n'),
);
const line = (what, { minified, gzipped }) =>
  `browser: ${what}, minified: ${minified} B, gzipped: ${gzipped} B (${(gzipped / 1024).toFixed(2)} KB)`;
console.log(`${line('@optimizely-mixpanel/browser main entry bundled with core', main)}; target < ${TARGET} B gzipped`);
console.log(line('the same with /trace, /hook, /attributes and /event-format', all));
