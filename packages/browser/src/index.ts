export { enableOptimizelyMixpanel, instrumentClient, patchSdk, stats, wrapCreateInstance } from './instrumentation.js';
export type {
  ActiveSpan,
  BrowserOptions,
  BrowserStats,
  EvaluationEvents,
  ExposureHookRunner,
  IdentityPolicy,
  MixpanelBrowser,
  TraceApi,
} from './types.js';
