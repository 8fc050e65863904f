/**
 * esbuild plugin: every import of `@optimizely/optimizely-sdk` gets the SDK
 * copy that importer would have resolved, re-exported whole with an
 * instrumented `createInstance`.
 *
 * @example
 * ```ts
 * import { build } from 'esbuild';
 * import { optimizelyMixpanelEsbuild } from '@optimizely-mixpanel/browser/esbuild';
 * await build({ entryPoints: ['src/main.js'], bundle: true, outdir: 'dist', plugins: [optimizelyMixpanelEsbuild()] });
 * ```
 */
import { dirname } from 'node:path';
import { PROXY_PREFIX, proxySource, SDK_IMPORT } from './sdk-proxy.js';

type ImportKind =
  | 'entry-point'
  | 'import-statement'
  | 'require-call'
  | 'dynamic-import'
  | 'require-resolve'
  | 'import-rule'
  | 'composes-from'
  | 'url-token';

/** The part of esbuild's plugin API the plugin uses. */
interface EsbuildPluginBuild {
  onResolve(
    options: { filter: RegExp; namespace?: string },
    callback: (
      args: EsbuildResolveArgs,
    ) => Promise<EsbuildResolveResult | undefined> | EsbuildResolveResult | undefined,
  ): void;
  onLoad(
    options: { filter: RegExp; namespace?: string },
    callback: (args: { path: string }) => { contents: string; resolveDir: string; loader: 'js' } | undefined,
  ): void;
  resolve(
    path: string,
    options: { importer: string; resolveDir: string; kind: ImportKind; pluginData: unknown },
  ): Promise<{ path: string; external: boolean; errors: unknown[] }>;
}
interface EsbuildResolveArgs {
  path: string;
  importer: string;
  resolveDir: string;
  kind: ImportKind;
  namespace: string;
  pluginData?: unknown;
}
interface EsbuildResolveResult {
  path?: string;
  namespace?: string;
  external?: boolean;
}

/** An esbuild plugin object. */
export interface EsbuildPlugin {
  name: string;
  setup(build: EsbuildPluginBuild): void;
}

const NAMESPACE = PROXY_PREFIX.slice(0, -1);
const SKIP = Symbol('optimizely-mixpanel resolving');
const NODE_MODULES = /[\\/]node_modules[\\/]/;

/**
 * Routes each `@optimizely/optimizely-sdk` import (and its `/browser`,
 * `/universal`, `/lite` subpaths) through a module that re-exports the copy the
 * importer resolved, with `createInstance` instrumented.
 */
export function optimizelyMixpanelEsbuild(options: { dependenciesOnly?: boolean } = {}): EsbuildPlugin {
  return {
    name: 'optimizely-mixpanel',
    setup(build) {
      build.onResolve({ filter: SDK_IMPORT }, async (args) => {
        if (args.pluginData === SKIP || args.namespace === NAMESPACE) return undefined;
        if (options.dependenciesOnly && !NODE_MODULES.test(args.importer)) return undefined;
        const resolved = await build.resolve(args.path, {
          importer: args.importer,
          resolveDir: args.resolveDir,
          kind: args.kind,
          pluginData: SKIP,
        });
        if (resolved.errors.length > 0 || resolved.external) return undefined;
        return { path: resolved.path, namespace: NAMESPACE };
      });
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: proxySource(args.path),
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
    },
  };
}
