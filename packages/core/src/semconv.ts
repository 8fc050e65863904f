import type { FlagDecision } from './types.js';

/*
 * OpenTelemetry feature-flag semantic conventions (semconv 1.44, release
 * candidate), copied in rather than imported from the incubating entry point.
 */
export const EVENT_FEATURE_FLAG_EVALUATION = 'feature_flag.evaluation';
export const ATTR_FEATURE_FLAG_KEY = 'feature_flag.key';
export const ATTR_FEATURE_FLAG_RESULT_VARIANT = 'feature_flag.result.variant';
export const ATTR_FEATURE_FLAG_RESULT_REASON = 'feature_flag.result.reason';
export const ATTR_FEATURE_FLAG_PROVIDER_NAME = 'feature_flag.provider.name';
export const ATTR_FEATURE_FLAG_CONTEXT_ID = 'feature_flag.context.id';
export const ATTR_FEATURE_FLAG_SET_ID = 'feature_flag.set.id';
export const ATTR_FEATURE_FLAG_VERSION = 'feature_flag.version';
export const PROVIDER_NAME = 'Optimizely';

/** `feature_flag.result.reason` values this project derives. */
export type EvaluationReason = 'split' | 'targeting_match' | 'default' | 'disabled' | 'unknown';

/**
 * Derives `feature_flag.result.reason`: an experiment rule is a `split`, a
 * targeted delivery rule a `targeting_match`, the everyone-else rule or no rule
 * at all the `default`.
 */
export function evaluationReason(decision: FlagDecision): EvaluationReason {
  if (!decision.ruleKey) return 'default';
  switch (decision.ruleKind) {
    case 'experiment':
      return 'split';
    case 'rollout':
      return 'targeting_match';
    case 'everyone_else':
      return 'default';
    default:
      return 'unknown';
  }
}

/** Context of an evaluation that the notification itself does not carry. */
export interface EvaluationContext {
  /** Optimizely environment key (`getOptimizelyConfig().environmentKey`). */
  setId?: string | undefined;
  /** Datafile revision. */
  version?: string | undefined;
  /** The user id as it may be recorded (already hashed or omitted by the caller's policy). */
  contextId?: string | undefined;
}

/** Attributes of a `feature_flag.evaluation` event for one decision. */
export function featureFlagEvaluationAttributes(
  decision: FlagDecision,
  context: EvaluationContext = {},
): Record<string, string> {
  const attributes: Record<string, string> = {
    [ATTR_FEATURE_FLAG_KEY]: decision.flagKey,
    [ATTR_FEATURE_FLAG_PROVIDER_NAME]: PROVIDER_NAME,
    [ATTR_FEATURE_FLAG_RESULT_REASON]: evaluationReason(decision),
  };
  const variant = decision.variationKey || (decision.enabled ? undefined : 'off');
  if (variant) attributes[ATTR_FEATURE_FLAG_RESULT_VARIANT] = variant;
  if (context.setId) attributes[ATTR_FEATURE_FLAG_SET_ID] = context.setId;
  if (context.version) attributes[ATTR_FEATURE_FLAG_VERSION] = context.version;
  if (context.contextId) attributes[ATTR_FEATURE_FLAG_CONTEXT_ID] = context.contextId;
  return attributes;
}
