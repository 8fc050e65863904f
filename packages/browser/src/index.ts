export { enableOptimizelyMixpanel, instrumentClient, patchSdk, stats, wrapCreateInstance } from './instrumentation.js';
export type {
  ActiveSpan,
  BrowserOptions,
  BrowserStats,
  ExposureHookRunner,
  IdentityPolicy,
  MixpanelBrowser,
  TraceApi,
  TracedDecision,
  Tracing,
} from './types.js';
