/*
 * Feature-flag semantic conventions come from @optimizely-mixpanel/core (copied
 * in there from semconv 1.44). These two attributes are this package's own.
 */
export {
  ATTR_FEATURE_FLAG_CONTEXT_ID,
  ATTR_FEATURE_FLAG_KEY,
  ATTR_FEATURE_FLAG_PROVIDER_NAME,
  ATTR_FEATURE_FLAG_RESULT_REASON,
  ATTR_FEATURE_FLAG_RESULT_VARIANT,
  ATTR_FEATURE_FLAG_SET_ID,
  ATTR_FEATURE_FLAG_VERSION,
  EVENT_FEATURE_FLAG_EVALUATION,
} from '@optimizely-mixpanel/core';

/** The Optimizely rule that decided (`checkout_redesign_ab`, `default-rollout-...`). */
export const ATTR_OPTIMIZELY_RULE_KEY = 'optimizely.rule.key';
/** What became of the decision: `exported`, or the skip reason (`duplicate`, `no_rule`, ...). */
export const ATTR_OPTIMIZELY_EXPOSURE = 'optimizely.exposure';
