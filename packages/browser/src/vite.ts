/**
 * Vite plugin: every import of `@optimizely/optimizely-sdk` gets the SDK copy
 * that importer would have resolved (5.x nested under `@optimizely/react-sdk`,
 * 6.x at the top, any number of copies), re-exported whole with an instrumented
 * `createInstance`. Works in `vite build` and in the dev server, including
 * dependencies Vite pre-bundles.
 *
 * @example
 * ```ts
 * // vite.config.ts
 * import react from '@vitejs/plugin-react';
 * import { optimizelyMixpanel } from '@optimizely-mixpanel/browser/vite';
 * export default { plugins: [react(), optimizelyMixpanel()] };
 * ```
 */
import { defaultExportOf, PROXY_PREFIX, proxySource, SDK_IMPORT } from './sdk-proxy.js';

/** The part of a Rollup/Rolldown plugin context the plugin uses. */
interface ResolveContext {
  resolve(
    source: string,
    importer: string | undefined,
    options: { skipSelf: boolean; kind?: unknown },
  ): Promise<{ id: string; external?: unknown } | null>;
  meta?: { rolldownVersion?: string };
}

const VIRTUAL = `\0${PROXY_PREFIX}`;
const DEPS_DIR = /[\\/]\.vite[\\/]deps[\\/]/;
const NODE_MODULES = /[\\/]node_modules[\\/]/;

async function route(ctx: ResolveContext, source: string, importer: string | undefined, options: object) {
  if (!SDK_IMPORT.test(source) || !importer || importer.startsWith(VIRTUAL)) return null;
  const resolved = await ctx.resolve(source, importer, { ...options, skipSelf: true });
  if (!resolved || resolved.external) return resolved;
  return `${VIRTUAL}${resolved.id}`;
}

function load(id: string): string | null {
  if (!id.startsWith(VIRTUAL)) return null;
  const file = id.slice(VIRTUAL.length);
  // A pre-bundled copy may not be written yet: its default export is probed at run time.
  return proxySource(file, DEPS_DIR.test(file) ? 'probe' : defaultExportOf(file));
}

/** The same routing inside the dev server's dependency pre-bundling, for SDK imports made by dependencies. */
function prebundlePlugin() {
  return {
    name: 'optimizely-mixpanel:prebundle',
    async resolveId(this: ResolveContext, source: string, importer: string | undefined, options: object) {
      // App sources are routed by the main plugin; the dependency scan must still see the SDK.
      if (!importer || !NODE_MODULES.test(importer)) return null;
      return route(this, source, importer, options);
    },
    load,
  };
}

/** The esbuild form for Vite versions that pre-bundle with esbuild (before Vite 8). */
async function esbuildPrebundlePlugin() {
  const { optimizelyMixpanelEsbuild } = await import('./esbuild.js');
  return optimizelyMixpanelEsbuild({ dependenciesOnly: true });
}

/**
 * Routes each `@optimizely/optimizely-sdk` import (and its `/browser`,
 * `/universal`, `/lite` subpaths) through a module that re-exports the copy the
 * importer resolved, with `createInstance` instrumented.
 */
export function optimizelyMixpanel() {
  return {
    name: 'optimizely-mixpanel',
    enforce: 'pre' as const,
    async config(this: ResolveContext | undefined) {
      if (this?.meta?.rolldownVersion) return { optimizeDeps: { rolldownOptions: { plugins: [prebundlePlugin()] } } };
      return { optimizeDeps: { esbuildOptions: { plugins: [await esbuildPrebundlePlugin()] } } };
    },
    async resolveId(
      this: ResolveContext,
      source: string,
      importer: string | undefined,
      options: { scan?: boolean; ssr?: boolean } & object,
    ) {
      // The dependency scan must record the SDK itself, so the dev server pre-bundles it. Server-side
      // builds keep the SDK as it is: the Node instrumentation instruments it there.
      if (options?.scan || options?.ssr) return null;
      return route(this, source, importer, options);
    },
    load,
  };
}
