import type {
  AttributePicker,
  ClientConfig,
  DecisionResult,
  Exposure,
  Outcome,
  RecordBuilder,
  RolloutMode,
  SkipReason,
} from '@optimizely-mixpanel/core';

/** The part of a `mixpanel-browser` instance the integration uses. */
export interface MixpanelBrowser {
  track(event: string, properties?: Record<string, unknown>): unknown;
  register(properties: Record<string, unknown>): unknown;
  identify(distinctId: string): unknown;
  get_distinct_id(): string;
  has_opted_out_tracking?(): boolean;
  people: { set(properties: Record<string, unknown>): unknown };
}

/** The part of an OpenTelemetry span the integration uses. */
export interface ActiveSpan {
  isRecording(): boolean;
  spanContext(): { traceId: string };
  addEvent(name: string, attributes?: Record<string, string | number | boolean>): unknown;
}

/** The part of `@opentelemetry/api`'s `trace` the integration uses. */
export interface TraceApi {
  getActiveSpan(): ActiveSpan | undefined;
}

/**
 * Tracing of the decisions, made by `tracing(trace)` of `@optimizely-mixpanel/browser/trace`:
 * called in each `decide()`, it gives undefined without a recording span.
 */
export type Tracing = () => TracedDecision | undefined;

/** One decision made while a span records. */
export interface TracedDecision {
  /** The span's trace id, for the exposure events' `trace_id`; undefined when they carry none. */
  traceId: string | undefined;
  /** Records the handled decision on the span. */
  end(outcome: Outcome, result: DecisionResult, config: ClientConfig | undefined): void;
}

/** The builder of exposure events in a chosen format: made by `eventFormat()` of `@optimizely-mixpanel/browser/event-format`. */
export type EventFormatChoice = typeof RecordBuilder;

/**
 * What to do when the Optimizely user id is not Mixpanel's current `distinct_id`:
 * `identify` it in Mixpanel (profile writes queued before are sent then), or
 * `warn` once and skip such exposures (counted as `identity_mismatch`).
 */
export type IdentityPolicy = 'identify' | 'warn';

/** An exposure hook with the checks of what it leaves: made by `exposureHook()` of `@optimizely-mixpanel/browser/hook`. */
export interface ExposureHookRunner {
  /** Runs the hook on the outcome's exposure, sends what it leaves through `send`, and counts every skip. */
  deliver(
    outcome: Outcome,
    send: (exposure: Exposure) => SkipReason | undefined,
    count: (reason: SkipReason) => void,
  ): DecisionResult;
}

/** Options of {@link enableOptimizelyMixpanel}. */
export interface BrowserOptions {
  /** The app's initialised `mixpanel-browser` instance. */
  mixpanel: MixpanelBrowser;
  /**
   * The SDK module to patch in place: defaults to `window.optimizelySdk`, the
   * script-tag (UMD) build. Bundled apps use the build plugin instead.
   */
  sdk?: { createInstance?: unknown } | undefined;
  /** Default `identify`. */
  identity?: IdentityPolicy;
  /**
   * The exposure event's format: `eventFormat('experiment_viewed' | 'experiment_started' | 'both')`
   * from `@optimizely-mixpanel/browser/event-format`. Default `Experiment Viewed`.
   */
  eventFormat?: EventFormatChoice | undefined;
  /** Dedup window in ms, kept across reloads for the session. Default 30 minutes. */
  dedupWindowMs?: number;
  /** Entries kept in memory and in sessionStorage. Default 500. */
  dedupMaxEntries?: number;
  /**
   * What rollout rules (targeted delivery, everyone else) give: `profile` (default: the
   * profile and super property, no exposure event), `event` (as experiments) or `off`.
   */
  rollouts?: RolloutMode;
  /**
   * SDK user attributes copied onto the exposure event: `allowAttributes([...names])`
   * from `@optimizely-mixpanel/browser/attributes`. Default none.
   */
  attributes?: AttributePicker | undefined;
  /** Register `[Optimizely] <flagKey>` as a super property on later events. Default true. */
  superProperties?: boolean;
  /**
   * `tracing(trace)` from `@optimizely-mixpanel/browser/trace`: exposure events carry the
   * `trace_id` of the recording span active in `decide()`, and each decision adds a
   * `feature_flag.evaluation` event to that span (kept apart so pages without tracing do not ship it).
   */
  tracing?: Tracing | undefined;
  /**
   * Called with each exposure before it is sent (synchronously); return `false` to drop it:
   * `exposureHook(fn)` from `@optimizely-mixpanel/browser/hook`.
   */
  exposureHook?: ExposureHookRunner | undefined;
}

/** Counts since enable: exposures sent and decisions skipped by reason. */
export interface BrowserStats {
  exposed: number;
  skipped: Record<string, number>;
}
