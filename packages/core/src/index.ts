export { type DeduplicatorOptions, ExposureDeduplicator } from './dedup.js';
export { type Hash128, hash128, rehash, toHex } from './hash.js';
export { isValidDistinctId, MIXPANEL_LIMITS, truncateName, truncateUtf8 } from './limits.js';
export { DecisionNormalizer } from './normalizer.js';
export {
  ATTR_FEATURE_FLAG_CONTEXT_ID,
  ATTR_FEATURE_FLAG_KEY,
  ATTR_FEATURE_FLAG_PROVIDER_NAME,
  ATTR_FEATURE_FLAG_RESULT_REASON,
  ATTR_FEATURE_FLAG_RESULT_VARIANT,
  ATTR_FEATURE_FLAG_SET_ID,
  ATTR_FEATURE_FLAG_VERSION,
  EVENT_FEATURE_FLAG_EVALUATION,
  type EvaluationContext,
  type EvaluationReason,
  evaluationReason,
  featureFlagEvaluationAttributes,
  PROVIDER_NAME,
} from './semconv.js';
export {
  type DecisionNotification,
  type EventFormat,
  type Exposure,
  type FlagDecision,
  type MixpanelEvent,
  type MixpanelProfileUpdate,
  type NormalizeResult,
  type NormalizerConfig,
  type PropertyValue,
  type RuleKind,
  SKIP_REASONS,
  type SkipReason,
} from './types.js';
