export { configFromEnv, ENVIRONMENT_VARIABLES } from './config.js';
export type { DecisionStats } from './decision-handler.js';
export { flush, shutdown } from './flush.js';
export { OptimizelyMixpanelInstrumentation } from './instrumentation.js';
export { LambdaHandlerInstrumentation, type LambdaHandlerInstrumentationConfig } from './lambda.js';
export * from './semconv.js';
export type { ContextIdPolicy, OptimizelyMixpanelInstrumentationConfig } from './types.js';
