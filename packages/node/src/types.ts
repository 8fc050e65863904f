import type { Span } from '@opentelemetry/api';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { EventFormat, ExposureHook, FlagDecision, RolloutMode } from '@optimizely-mixpanel/core';
import type { MixpanelExporter, MixpanelExporterConfig, MixpanelRegion } from '@optimizely-mixpanel/exporter';
import type { CohortTargetingConfig } from './cohorts.js';

/** How `feature_flag.context.id` (the Optimizely user id, possibly PII) is recorded on spans. */
export type ContextIdPolicy = 'hashed' | 'raw' | 'none';

/**
 * Configuration of {@link OptimizelyMixpanelInstrumentation}. Every field can
 * also come from the environment (see the README's table); code wins. An
 * invalid optional value warns once and takes its default.
 */
export interface OptimizelyMixpanelInstrumentationConfig extends InstrumentationConfig {
  /** Mixpanel project token (`MIXPANEL_TOKEN`). Without one, nothing is sent to Mixpanel. */
  token?: string;
  /** Ingestion base URL (`MIXPANEL_API_HOST`), e.g. `https://api-eu.mixpanel.com` or `http://127.0.0.1:8080`. */
  apiHost?: string;
  /** Data residency when no `apiHost` is given (`OPTIMIZELY_MIXPANEL_REGION`): `us`, `eu`, `in`. */
  region?: MixpanelRegion;
  /** Further exporter options (batching, retries, timeouts, `/import` credentials). */
  exporterConfig?: Partial<MixpanelExporterConfig>;
  /** An exporter of your own; the instrumentation then neither creates nor shuts one down. */
  exporter?: MixpanelExporter;
  /** `experiment_viewed` (default), `experiment_started` or `both` (`OPTIMIZELY_MIXPANEL_EVENT_FORMAT`). */
  eventFormat?: EventFormat;
  /**
   * What rollout rules (targeted delivery, everyone else) give (`OPTIMIZELY_MIXPANEL_ROLLOUTS`):
   * `profile` (default: the profile property, no exposure event, since a rollout is not an
   * experiment), `event` (event and profile property, as experiments) or `off`.
   */
  rollouts?: RolloutMode;
  /** Dedup window in ms (`OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS`, default 30 min); 0 turns dedup off. */
  dedupWindowMs?: number;
  /** Dedup entries kept (`OPTIMIZELY_MIXPANEL_DEDUP_MAX_ENTRIES`, default 100 000). */
  dedupMaxEntries?: number;
  /** Map legacy decisions (`activate`, `isFeatureEnabled`, ...) (`OPTIMIZELY_MIXPANEL_INCLUDE_LEGACY`, default false). */
  includeLegacyTypes?: boolean;
  /** SDK user attributes copied onto events (`OPTIMIZELY_MIXPANEL_ATTRIBUTES`, comma-separated; default none). */
  attributeAllowlist?: string[];
  /** Add a `feature_flag.evaluation` event to the active span (`OPTIMIZELY_MIXPANEL_SPAN_EVENTS`, default true). */
  spanEvents?: boolean;
  /** Also start a standalone span per decision (`OPTIMIZELY_MIXPANEL_DECISION_SPANS`, default false). */
  decisionSpans?: boolean;
  /**
   * Exposure events carry `trace_id`, the trace of the span active in `decide()`, when that
   * span is recording (`OPTIMIZELY_MIXPANEL_TRACE_IDS`, default true).
   */
  traceIds?: boolean;
  /** `feature_flag.context.id`: `hashed` (HMAC-SHA-256, default), `raw` or `none` (`OPTIMIZELY_MIXPANEL_CONTEXT_ID`). */
  contextId?: ContextIdPolicy;
  /**
   * HMAC key of hashed context ids (`OPTIMIZELY_MIXPANEL_CONTEXT_ID_KEY`). Default: derived from
   * the Mixpanel token, so every instance of a fleet gives a user the same id with no setting.
   */
  contextIdKey?: string;
  /**
   * Called with each exposure before it is queued; may add properties to
   * `exposure.events[i].properties`, remove events, or return `false` to drop it.
   * Synchronous: a returned promise is not awaited (its rejection is caught and
   * warned about). A throwing hook is contained (the exposure is sent unchanged);
   * events it leaves unsendable are removed; every removal is counted.
   */
  exposureHook?: ExposureHook;
  /**
   * Called with the attributes of each `feature_flag.evaluation` event or span
   * before it is recorded; may add attributes. A throwing hook is contained.
   */
  evaluationHook?: (attributes: Record<string, string | number | boolean>, decision: FlagDecision, span: Span) => void;
  /**
   * Mixpanel cohorts as Optimizely segments (`OPTIMIZELY_MIXPANEL_COHORTS`: the
   * store of `mixpanel-cohort-receiver`, a file path or `redis://` URL; segment
   * names by cohort id in `OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS`). Each new user
   * context is qualified for its user id's cohorts.
   */
  cohorts?: string | CohortTargetingConfig;
}
