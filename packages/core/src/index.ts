export { type ClientConfigCache, clientConfigCache } from './client-config.js';
export { type DeduplicatorOptions, ExposureDeduplicator } from './dedup.js';
export { hasEvents } from './exposure.js';
export { type ExposureHook, type HookProblem, runExposureHook } from './hooks.js';
export { isValidDistinctId, MIXPANEL_LIMITS } from './limits.js';
export { type LegacyReader, readLegacyDecision } from './notification.js';
export { DecisionPipeline, ExposurePipeline } from './pipeline.js';
export {
  type AttributePicker,
  attributePicker,
  FormatRecordBuilder,
  RecordBuilder,
  TRACE_ID_PROPERTY,
  traceIdOf,
} from './records.js';
export { type ExposureJson, exposureJson, type RecordJson } from './records-json.js';
export {
  ATTR_FEATURE_FLAG_CONTEXT_ID,
  ATTR_FEATURE_FLAG_KEY,
  ATTR_FEATURE_FLAG_PROVIDER_NAME,
  ATTR_FEATURE_FLAG_RESULT_REASON,
  ATTR_FEATURE_FLAG_RESULT_VARIANT,
  ATTR_FEATURE_FLAG_SET_ID,
  ATTR_FEATURE_FLAG_VERSION,
  ATTR_MIXPANEL_INSERT_ID,
  ATTR_OPTIMIZELY_EXPOSURE,
  ATTR_OPTIMIZELY_RULE_KEY,
  EVENT_FEATURE_FLAG_EVALUATION,
  type EvaluationReason,
  featureFlagEvaluationAttributes,
  PROVIDER_NAME,
} from './semconv.js';
export { type DecisionResult, deliver, deliverWith, type ExposureSink, type HookRunner } from './sink.js';
export {
  CONFIG_UPDATE,
  type DecisionListener,
  type NotificationTypes,
  subscribeClient,
  subscribeWith,
} from './subscribe.js';
export type {
  ClientConfig,
  DecisionNotification,
  Deduplicator,
  EventFormat,
  Exposure,
  FlagDecision,
  MixpanelEvent,
  MixpanelProfileUpdate,
  Outcome,
  PipelineConfig,
  PropertyValue,
  RolloutMode,
  RuleKind,
  SkipReason,
  TraceSpan,
} from './types.js';
