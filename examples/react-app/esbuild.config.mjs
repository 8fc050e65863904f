import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { optimizelyMixpanelEsbuild } from '@optimizely-mixpanel/browser/esbuild';
import { build } from 'esbuild';

const outdir = process.env.OUT_DIR ?? 'dist-esbuild';
await build({
  entryPoints: { main: 'src/main.js' },
  bundle: true,
  format: 'esm',
  minify: true,
  outdir,
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [optimizelyMixpanelEsbuild()],
});
const page = readFileSync('index.html', 'utf8').replace('./src/main.js', './main.js');
writeFileSync(join(outdir, 'index.html'), page);
