import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptimizelyMixpanelWebpackPlugin } from '@optimizely-mixpanel/browser/webpack';

const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8').replace('./src/main.js', './main.js');

/** Emits index.html next to the bundle. */
class PagePlugin {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('page', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'page', stage: 0 }, () => {
        compilation.emitAsset('index.html', new compiler.webpack.sources.RawSource(page));
      });
    });
  }
}

export default {
  mode: 'production',
  entry: './src/main.js',
  output: {
    path: resolve(dirname(fileURLToPath(import.meta.url)), process.env.OUT_DIR ?? 'dist-webpack'),
    filename: 'main.js',
    clean: true,
  },
  performance: { hints: false },
  plugins: [new OptimizelyMixpanelWebpackPlugin(), new PagePlugin()],
};
