/**
 * Build plugin: routes `@optimizely/optimizely-sdk` imports through the
 * instrumented re-export. For webpack or esbuild, set the same alias:
 * `'@optimizely/optimizely-sdk$': '@optimizely-mixpanel/browser/optimizely-sdk'`.
 *
 * @example
 * ```ts
 * // vite.config.ts
 * import { optimizelyMixpanel } from '@optimizely-mixpanel/browser/vite';
 * export default { plugins: [optimizelyMixpanel()] };
 * ```
 */
export const SDK_ALIAS = {
  find: /^@optimizely\/optimizely-sdk$/,
  replacement: '@optimizely-mixpanel/browser/optimizely-sdk',
} as const;

export function optimizelyMixpanel() {
  return {
    name: 'optimizely-mixpanel',
    enforce: 'pre' as const,
    config() {
      return { resolve: { alias: [SDK_ALIAS] } };
    },
  };
}
