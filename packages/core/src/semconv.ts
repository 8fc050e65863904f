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

/** The Optimizely rule that decided (`checkout_redesign_ab`, `default-rollout-...`). */
export const ATTR_OPTIMIZELY_RULE_KEY = 'optimizely.rule.key';
/** What became of the decision: `exported`, or the skip reason (`duplicate`, `no_rule`, ...). */
export const ATTR_OPTIMIZELY_EXPOSURE = 'optimizely.exposure';
/** The `$insert_id` of the exposure event sent for this decision, to find it in Mixpanel. */
export const ATTR_MIXPANEL_INSERT_ID = 'mixpanel.insert_id';

/** `feature_flag.result.reason` values this project derives. */
export type EvaluationReason = 'split' | 'targeting_match' | 'default' | 'unknown';

const REASONS: Record<FlagDecision['ruleKind'], EvaluationReason> = {
  experiment: 'split',
  rollout: 'targeting_match',
  everyone_else: 'default',
  unknown: 'unknown',
};

/**
 * Attributes of a `feature_flag.evaluation` event for one decision: the
 * reason is derived from the rule (experiment → `split`, targeted delivery →
 * `targeting_match`, everyone else or no rule → `default`).
 */
export function featureFlagEvaluationAttributes(
  decision: FlagDecision,
  outcome: string,
  setId?: string,
  version?: string,
): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {
    [ATTR_FEATURE_FLAG_KEY]: decision.flagKey,
    [ATTR_FEATURE_FLAG_PROVIDER_NAME]: PROVIDER_NAME,
    [ATTR_FEATURE_FLAG_RESULT_REASON]: decision.ruleKey ? REASONS[decision.ruleKind] : 'default',
    [ATTR_OPTIMIZELY_EXPOSURE]: outcome,
  };
  const variant = decision.variationKey || (decision.enabled ? undefined : 'off');
  if (variant) attributes[ATTR_FEATURE_FLAG_RESULT_VARIANT] = variant;
  if (decision.ruleKey) attributes[ATTR_OPTIMIZELY_RULE_KEY] = decision.ruleKey;
  if (setId) attributes[ATTR_FEATURE_FLAG_SET_ID] = setId;
  if (version) attributes[ATTR_FEATURE_FLAG_VERSION] = version;
  return attributes;
}
