export { configFromEnv, ENVIRONMENT_VARIABLES } from './config.js';
export type { DecisionStats } from './decision-handler.js';
export { OptimizelyMixpanelInstrumentation } from './instrumentation.js';
export * from './semconv.js';
export type { ContextIdPolicy, OptimizelyMixpanelInstrumentationConfig } from './types.js';
