export type { CohortTargeting, CohortTargetingConfig } from './cohorts.js';
export { configFromEnv, ENVIRONMENT_VARIABLES } from './config.js';
export type { DecisionStats } from './decision-handler.js';
export {
  DEFAULT_CONTEXT_MAX_ENTRIES,
  DEFAULT_CONTEXT_TTL_MS,
  type ExperimentContextOptions,
  ExperimentContextStore,
  type ExperimentProperties,
} from './experiment-context.js';
export { flush, shutdown } from './flush.js';
export { redactMixpanelSpanUrl } from './http-redaction.js';
export { OptimizelyMixpanelInstrumentation } from './instrumentation.js';
export { LambdaHandlerInstrumentation, type LambdaHandlerInstrumentationConfig } from './lambda.js';
export {
  DEFAULT_EXCLUDED_EVENTS,
  MixpanelInstrumentation,
  type MixpanelInstrumentationConfig,
  type MixpanelInstrumentationStats,
} from './mixpanel-instrumentation.js';
export { DEFAULT_LOOKUP_TIMEOUT_MS, type RedisClientLike } from './redis-context.js';
export * from './semconv.js';
export {
  ExperimentContext,
  type ExperimentContextConfig,
  experimentContext,
  experimentContextAsync,
  sharedExperimentContext,
} from './shared-context.js';
export type { ContextIdPolicy, OptimizelyMixpanelInstrumentationConfig } from './types.js';
