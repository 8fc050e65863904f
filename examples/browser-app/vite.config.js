import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { optimizelyMixpanel } from '@optimizely-mixpanel/browser/vite';
import { defineConfig } from 'vite';

const require = createRequire(import.meta.url);

/** Ships the SDK's script-tag (UMD) build for umd.html, as a site that loads it from a CDN would. */
function sdkUmdBuild() {
  return {
    name: 'sdk-umd-build',
    generateBundle() {
      const file = join(dirname(require.resolve('@optimizely/optimizely-sdk')), 'optimizely.browser.umd.min.js');
      this.emitFile({ type: 'asset', fileName: 'vendor/optimizely-sdk.umd.min.js', source: readFileSync(file) });
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [optimizelyMixpanel(), sdkUmdBuild()],
  build: {
    outDir: process.env.OUT_DIR ?? 'dist',
    emptyOutDir: true,
    rollupOptions: { input: { main: 'index.html', umd: 'umd.html' } },
  },
});
