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

/** The Mixpanel endpoint of a request of the application's own client (`/track`, `/engage`, ...). */
export const ATTR_MIXPANEL_ENDPOINT = 'mixpanel.endpoint';
/** Stable semantic convention: the kind of failure. */
export const ATTR_ERROR_TYPE = 'error.type';
/** What an experiment context failure was about: `lookup`, `write` or `connect`. */
export const ATTR_OPTIMIZELY_MIXPANEL_CONTEXT_OPERATION = 'optimizely_mixpanel.context.operation';
/** Requests of the application's own `mixpanel` client that failed. */
export const METRIC_APP_CLIENT_FAILURES = 'optimizely_mixpanel.app_client.failures';
/** Users whose experiment context a Redis lookup or write failed for; a failed lookup sends its events without it. */
export const METRIC_CONTEXT_FAILURES = 'optimizely_mixpanel.context.failures';
