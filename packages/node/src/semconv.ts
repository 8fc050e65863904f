/*
 * Feature-flag semantic conventions come from @optimizely-mixpanel/core (copied
 * in there from semconv 1.44), with this project's own `optimizely.*` and
 * `mixpanel.*` attributes.
 */
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
} from '@optimizely-mixpanel/core';

/** Why a decision or part of an exposure was not exported. */
export const ATTR_OPTIMIZELY_SKIP_REASON = 'optimizely.skip.reason';
/** Decisions handled, by `optimizely.exposure` (`exported` or the skip reason). */
export const METRIC_DECISIONS = 'optimizely_mixpanel.decisions';
/** Events removed from exposures by the exposure hook (their profile property was sent), by `optimizely.skip.reason`. */
export const METRIC_HOOK_REMOVALS = 'optimizely_mixpanel.hook.removals';

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
