import { optimizelyMixpanel } from '@optimizely-mixpanel/browser/vite';

// With JSX, add @vitejs/plugin-react as usual: plugins: [react(), optimizelyMixpanel()].
export default {
  base: './',
  plugins: [optimizelyMixpanel()],
  build: { outDir: process.env.OUT_DIR ?? 'dist', emptyOutDir: true },
};
