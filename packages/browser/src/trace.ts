import {
  ATTR_MIXPANEL_INSERT_ID,
  EVENT_FEATURE_FLAG_EVALUATION,
  featureFlagEvaluationAttributes,
  hasEvents,
  traceIdOf,
} from '@optimizely-mixpanel/core';
import type { TraceApi, Tracing } from './types.js';

/** What {@link tracing} records; both default to true. */
export interface TracingOptions {
  /** A `feature_flag.evaluation` event per decision on the span active in `decide()`. */
  spanEvents?: boolean;
  /** Exposure events carry that span's `trace_id`. */
  traceIds?: boolean;
}

/**
 * Traces decisions through `trace` of `@opentelemetry/api`. While a span records
 * in `decide()`, exposure events carry its `trace_id` (Mixpanel to trace), and it
 * gets a `feature_flag.evaluation` event (OpenTelemetry feature-flag semantic
 * conventions, the same attributes as in Node) for every decision, exported or
 * not: flag key, variant, reason, `optimizely.exposure` (`exported` or the skip
 * reason), and the exposure event's `mixpanel.insert_id`.
 *
 * @example
 * ```ts
 * import { trace } from '@opentelemetry/api';
 * import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
 * import { tracing } from '@optimizely-mixpanel/browser/trace';
 * enableOptimizelyMixpanel({ mixpanel, tracing: tracing(trace) });
 * ```
 */
export function tracing(trace: TraceApi, options: TracingOptions = {}): Tracing {
  const spanEvents = options.spanEvents !== false;
  const traceIds = options.traceIds !== false;
  return () => {
    const span = trace.getActiveSpan();
    if (!span?.isRecording()) return undefined;
    return {
      traceId: traceIds ? traceIdOf(span) : undefined,
      end({ decision, exposure }, result, config) {
        if (!spanEvents || !decision) return;
        const attributes = featureFlagEvaluationAttributes(decision, result, config?.environmentKey, config?.revision);
        if (exposure?.insertId && hasEvents(exposure)) attributes[ATTR_MIXPANEL_INSERT_ID] = exposure.insertId;
        span.addEvent(EVENT_FEATURE_FLAG_EVALUATION, attributes);
      },
    };
  };
}
