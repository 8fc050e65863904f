// Gzipped size of what an app ships for this package: the main entry bundled with
// @optimizely-mixpanel/core and minified, peers (the SDK, mixpanel-browser) excluded.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'optimizely-mixpanel-size-'));
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
const file = readdirSync(outDir).find((f) => f.endsWith('.js'));
const code = readFileSync(join(outDir, file));
rmSync(outDir, { recursive: true, force: true });
const gz = gzipSync(code, { level: 9 }).length;
console.log(
  `browser: @optimizely-mixpanel/browser bundled with core, minified: ${code.length} B, gzipped: ${gz} B (${(gz / 1024).toFixed(2)} KB); target < 4 KB`,
);
