export { enableOptimizelyMixpanel, instrumentClient, patchSdk, stats, wrapCreateInstance } from './instrumentation.js';
export type {
  ActiveSpan,
  BrowserOptions,
  BrowserStats,
  EventFormatChoice,
  ExposureHookRunner,
  IdentityPolicy,
  MixpanelBrowser,
  TraceApi,
  TracedDecision,
  Tracing,
} from './types.js';
