export { enableOptimizelyMixpanel, instrumentClient, patchSdk, stats, wrapCreateInstance } from './instrumentation.js';
export type { BrowserOptions, BrowserStats, IdentityPolicy, MixpanelBrowser, TraceApi } from './types.js';
