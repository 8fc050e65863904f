/**
 * webpack 5 plugin: every import of `@optimizely/optimizely-sdk` gets the SDK
 * copy that importer would have resolved, re-exported whole with an
 * instrumented `createInstance`.
 *
 * @example
 * ```js
 * // webpack.config.mjs
 * import { OptimizelyMixpanelWebpackPlugin } from '@optimizely-mixpanel/browser/webpack';
 * export default { entry: './src/main.js', plugins: [new OptimizelyMixpanelWebpackPlugin()] };
 * ```
 */
import { proxySource, SDK_IMPORT } from './sdk-proxy.js';

/** The part of webpack's `ResolveData` the plugin uses. */
interface ResolveData {
  context: string;
  request: string;
  contextInfo: object;
  resolveOptions?: object;
  dependencies: Array<{ category?: string }>;
  fileDependencies?: unknown;
  missingDependencies?: unknown;
  contextDependencies?: unknown;
}
type Callback = () => void;
interface Resolver {
  resolve(
    contextInfo: object,
    context: string,
    request: string,
    resolveContext: object,
    callback: (error: Error | null, result?: string | false) => void,
  ): void;
}
interface NormalModuleFactory {
  hooks: { beforeResolve: { tapAsync(name: string, fn: (data: ResolveData, callback: Callback) => void): void } };
  getResolver(type: 'normal', options?: object): Resolver;
}
/** The part of webpack's `Compiler` the plugin uses. */
export interface WebpackCompiler {
  hooks: { normalModuleFactory: { tap(name: string, fn: (factory: NormalModuleFactory) => void): void } };
}

const NAME = 'OptimizelyMixpanelWebpackPlugin';

/**
 * Routes each `@optimizely/optimizely-sdk` import (and its `/browser`,
 * `/universal`, `/lite` subpaths) through a generated module that re-exports
 * the copy the importer resolved, with `createInstance` instrumented.
 */
export class OptimizelyMixpanelWebpackPlugin {
  apply(compiler: WebpackCompiler): void {
    compiler.hooks.normalModuleFactory.tap(NAME, (factory) => {
      factory.hooks.beforeResolve.tapAsync(NAME, (data, callback) => {
        if (!SDK_IMPORT.test(data.request)) return callback();
        // The resolver webpack itself would use for this import: same conditions (import/require, browser).
        const category = data.dependencies[0]?.category;
        const options = category ? { ...data.resolveOptions, dependencyType: category } : data.resolveOptions;
        const resolveContext = {
          fileDependencies: data.fileDependencies,
          missingDependencies: data.missingDependencies,
          contextDependencies: data.contextDependencies,
        };
        factory
          .getResolver('normal', options)
          .resolve(data.contextInfo, data.context, data.request, resolveContext, (error, file) => {
            // Unresolvable: leave the import alone, so webpack reports it as it would without us.
            if (!error && typeof file === 'string') {
              data.request = `data:text/javascript;charset=utf-8,${encodeURIComponent(proxySource(file))}`;
            }
            callback();
          });
      });
    });
  }
}
