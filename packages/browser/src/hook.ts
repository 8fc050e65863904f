import { deliverWith, type ExposureHook, type HookProblem, runExposureHook } from '@optimizely-mixpanel/core';
import { warnOnce } from './instrumentation.js';
import type { ExposureHookRunner } from './types.js';

/**
 * The `exposureHook` option: `hook` is called with each exposure before it is
 * sent, synchronously inside `decide()`, as in Node. It may add properties to
 * `exposure.events[i].properties`, remove events, or return `false` to drop the
 * exposure. A hook that throws leaves the exposure as it was; what it leaves
 * that cannot be sent is removed and counted (`invalid_hook_result`).
 *
 * @example
 * ```ts
 * import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
 * import { exposureHook } from '@optimizely-mixpanel/browser/hook';
 * enableOptimizelyMixpanel({
 *   mixpanel,
 *   exposureHook: exposureHook((exposure) => {
 *     for (const event of exposure.events) event.properties.app_version = '2.4.1';
 *   }),
 * });
 * ```
 */
export function exposureHook(hook: ExposureHook): ExposureHookRunner {
  const report = (problem: HookProblem, ...error: unknown[]) => warnOnce(`exposureHook ${problem}`, ...error);
  return {
    deliver: (outcome, send, count) =>
      deliverWith(
        outcome,
        { send },
        (exposure, decision, countRemoval) => runExposureHook(hook, exposure, decision, countRemoval, report),
        count,
        report,
      ),
  };
}
