export type { CohortTargeting, CohortTargetingConfig } from './cohorts.js';
export { configFromEnv, ENVIRONMENT_VARIABLES } from './config.js';
export { OptimizelyMixpanelInstrumentation } from './instrumentation.js';
export * from './semconv.js';
export type { ContextIdPolicy, OptimizelyMixpanelInstrumentationConfig } from './types.js';
