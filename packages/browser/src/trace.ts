import {
  ATTR_MIXPANEL_INSERT_ID,
  EVENT_FEATURE_FLAG_EVALUATION,
  featureFlagEvaluationAttributes,
  hasEvents,
} from '@optimizely-mixpanel/core';
import type { EvaluationEvents } from './types.js';

/**
 * Adds a `feature_flag.evaluation` event (OpenTelemetry feature-flag semantic
 * conventions, the same attributes as in Node) to the recording span active in
 * `decide()`, for every decision, exported or not: flag key, variant, reason,
 * `optimizely.exposure` (`exported` or the skip reason), and the exposure
 * event's `mixpanel.insert_id`. Pass it with `trace` to `enableOptimizelyMixpanel`.
 *
 * @example
 * ```ts
 * import { trace } from '@opentelemetry/api';
 * import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
 * import { evaluationEvents } from '@optimizely-mixpanel/browser/trace';
 * enableOptimizelyMixpanel({ mixpanel, trace, evaluationEvents });
 * ```
 */
export const evaluationEvents: EvaluationEvents = (span, { decision, exposure }, result, config) => {
  if (!decision) return;
  const attributes = featureFlagEvaluationAttributes(decision, result, config?.environmentKey, config?.revision);
  if (exposure?.insertId && hasEvents(exposure)) attributes[ATTR_MIXPANEL_INSERT_ID] = exposure.insertId;
  span.addEvent(EVENT_FEATURE_FLAG_EVALUATION, attributes);
};
