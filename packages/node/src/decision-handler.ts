import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type Span, SpanKind, type Tracer } from '@opentelemetry/api';
import {
  ATTR_FEATURE_FLAG_CONTEXT_ID,
  ATTR_MIXPANEL_INSERT_ID,
  type ClientConfig,
  type ClientConfigCache,
  DecisionPipeline,
  deliver,
  EVENT_FEATURE_FLAG_EVALUATION,
  type Exposure,
  type ExposureSink,
  type FlagDecision,
  featureFlagEvaluationAttributes,
  type HookProblem,
  hasEvents,
  readLegacyDecision,
  type SkipReason,
  traceIdOf,
} from '@optimizely-mixpanel/core';
import type { MixpanelExporter, RateLimitedLog } from '@optimizely-mixpanel/exporter';
import { recordingActiveSpan } from './active-span.js';
import { recordExperimentContext } from './shared-context.js';
import type { OptimizelyMixpanelInstrumentationConfig } from './types.js';

/**
 * A clock refreshed every 250 ms, for the dedup window only: reading it costs
 * nothing, where `Date.now()` costs about 40 ns in every repeated `decide()`.
 * Exposure timestamps still come from `Date.now()`. The timer never keeps the
 * process alive.
 */
let coarseTime = 0;
let coarseTimer: NodeJS.Timeout | undefined;
function coarseNow(): number {
  if (coarseTimer === undefined) {
    coarseTime = Date.now();
    coarseTimer = setInterval(() => {
      coarseTime = Date.now();
    }, 250);
    coarseTimer.unref();
  }
  return coarseTime;
}

/** Counts of what became of decisions, since the instrumentation was created. */
export interface DecisionStats {
  /** Decisions whose exposure was handed to the exporter (events and profile, or a rollout's profile alone). */
  exported: number;
  /** Decisions not exported, and exposure parts removed by the hook, by reason. */
  skipped: Partial<Record<SkipReason, number>>;
}

/**
 * Decisions by outcome (`exported`, or the skip reason) and hook removals by
 * reason: plain counts inside `decide()`, read by observable counters when
 * metrics are collected (a counter's `add()` per decision would cost more
 * than the rest of a repeated decision).
 */
export interface DecisionCounts {
  outcomes: Record<string, number>;
  removals: Record<string, number>;
}

/** What the handler records into, owned by the instrumentation (so it outlives a reconfiguration). */
export interface HandlerTelemetry {
  tracer(): Tracer;
  counts: DecisionCounts;
  log: RateLimitedLog;
  warnOnce(key: string, message: string): void;
}

/**
 * The Node sink: complete exposures go to the exporter's queue. Every exposure
 * the pipeline lets through passes here, experiments and profile-only rollouts alike.
 */
export class ExporterSink implements ExposureSink {
  constructor(private readonly exporter: MixpanelExporter | undefined) {}

  send(exposure: Exposure, decision: FlagDecision): SkipReason | undefined {
    recordExperimentContext(exposure, decision.userId); // what the app's own Mixpanel events get
    if (!this.exporter) return 'no_exporter';
    return this.exporter.export(exposure) ? undefined : 'dropped';
  }
}

/**
 * What runs inside every `decide()`: the shared pipeline, then the exporter,
 * then the `feature_flag.evaluation` event on the active span. It must be fast
 * and must never throw into the SDK.
 */
export class DecisionHandler {
  private readonly pipeline: DecisionPipeline;
  private readonly sink: ExporterSink;
  private readonly spanEvents: boolean;
  private readonly decisionSpans: boolean;
  private readonly traceIds: boolean;
  private readonly contextKey: Buffer | undefined;
  private readonly raw: boolean;
  private readonly outcomes: Record<string, number>;
  private readonly removals: Record<string, number>;
  private readonly count = (reason: SkipReason, removal?: boolean) => this.countSkip(reason, removal);
  private readonly report = (problem: HookProblem, error?: unknown) => this.reportHook(problem, error);

  constructor(
    private readonly config: OptimizelyMixpanelInstrumentationConfig,
    exporter: MixpanelExporter | undefined,
    private readonly telemetry: HandlerTelemetry,
    warn: (message: string) => void,
  ) {
    this.spanEvents = config.spanEvents !== false;
    this.decisionSpans = config.decisionSpans === true;
    this.traceIds = config.traceIds !== false;
    const windowMs = config.dedupWindowMs;
    this.pipeline = new DecisionPipeline({
      eventFormat: config.eventFormat,
      rollouts: config.rollouts,
      legacy: config.includeLegacyTypes === true ? readLegacyDecision : undefined,
      attributeAllowlist: config.attributeAllowlist,
      dedup: windowMs === 0 ? false : { windowMs, maxEntries: config.dedupMaxEntries },
      dedupClock: coarseNow,
      warn,
    });
    this.sink = new ExporterSink(exporter);
    this.outcomes = telemetry.counts.outcomes;
    this.removals = telemetry.counts.removals;
    const policy = config.contextId;
    this.raw = policy === 'raw';
    this.contextKey = policy === 'none' || this.raw ? undefined : contextIdKey(config);
  }

  /** Handles one DECISION notification of the client behind `clientConfig`. Never throws. */
  handle(notification: unknown, clientConfig: ClientConfigCache): void {
    try {
      const span = this.spanEvents || this.traceIds ? recordingActiveSpan() : undefined;
      // Most decisions repeat one already exposed: with nothing to record on a span, only counted.
      if (!span && !this.decisionSpans && this.pipeline.isRepeat(notification)) {
        // A named store, not tally()'s keyed one: this line runs for most decisions.
        const outcomes = this.outcomes;
        outcomes.duplicate = (outcomes.duplicate ?? 0) + 1;
        return;
      }
      const config = clientConfig.get();
      const outcome = this.pipeline.handle(notification, config, this.traceIds ? traceIdOf(span) : undefined);
      const result = deliver(outcome, this.sink, this.config.exposureHook, this.count, this.report);
      if (result === 'exported') tally(this.outcomes, result);
      if (outcome.decision && ((this.spanEvents && span) || this.decisionSpans)) {
        this.recordEvaluation(outcome.decision, result, config, this.spanEvents ? span : undefined, outcome.exposure);
      }
    } catch (error) {
      this.countSkip('error');
      this.telemetry.log.warn('handle', `decision handling failed; the application is unaffected: ${String(error)}`);
    }
  }

  private countSkip(reason: SkipReason, removal?: boolean): void {
    tally(removal ? this.removals : this.outcomes, reason);
  }

  private reportHook(problem: HookProblem, error?: unknown): void {
    if (problem === 'returned_promise') {
      this.telemetry.warnOnce(
        'hook-promise',
        'exposureHook returned a promise: hooks run synchronously inside decide(), so it is not awaited; ' +
          'the exposure is sent as the hook left it when it returned (see the README).',
      );
    } else if (problem === 'rejected') {
      this.telemetry.log.warn(
        'hook-rejected',
        `exposureHook's promise rejected; the exposure was sent: ${String(error)}`,
      );
    } else {
      this.telemetry.log.warn('hook-threw', `exposureHook threw; the exposure is sent unchanged: ${String(error)}`);
    }
  }

  private recordEvaluation(
    decision: FlagDecision,
    result: string,
    clientConfig: ClientConfig | undefined,
    active: Span | undefined,
    exposure: Exposure | undefined,
  ): void {
    const attributes = featureFlagEvaluationAttributes(
      decision,
      result,
      clientConfig?.environmentKey,
      clientConfig?.revision,
    );
    const contextId = this.contextId(decision.userId);
    if (contextId) attributes[ATTR_FEATURE_FLAG_CONTEXT_ID] = contextId;
    if (exposure?.insertId && hasEvents(exposure)) attributes[ATTR_MIXPANEL_INSERT_ID] = exposure.insertId;

    if (active) {
      this.applyHook(attributes, decision, active);
      active.addEvent(EVENT_FEATURE_FLAG_EVALUATION, attributes);
    }
    if (this.decisionSpans) {
      const span = this.telemetry.tracer().startSpan(EVENT_FEATURE_FLAG_EVALUATION, { kind: SpanKind.INTERNAL });
      this.applyHook(attributes, decision, span);
      span.setAttributes(attributes);
      span.end();
    }
  }

  private applyHook(attributes: Record<string, string | number | boolean>, decision: FlagDecision, span: Span): void {
    const hook = this.config.evaluationHook;
    if (!hook) return;
    try {
      hook(attributes, decision, span);
    } catch (error) {
      this.telemetry.log.warn('evaluation-hook', `evaluationHook threw; recorded without it: ${String(error)}`);
    }
  }

  private contextId(userId: unknown): string | undefined {
    if (typeof userId !== 'string' || userId.length === 0) return undefined;
    if (this.raw) return userId;
    if (!this.contextKey) return undefined;
    return createHmac('sha256', this.contextKey).update(userId).digest('hex').slice(0, 32);
  }
}

/**
 * The HMAC key of hashed context ids: the configured one, else one derived
 * from the project token (the same across a fleet, with no setting, and not
 * the token itself), else a random one for this process.
 */
function contextIdKey(config: OptimizelyMixpanelInstrumentationConfig): Buffer {
  if (typeof config.contextIdKey === 'string' && config.contextIdKey.length > 0) {
    return Buffer.from(config.contextIdKey);
  }
  const token = config.exporterConfig?.token ?? config.token;
  if (typeof token === 'string' && token.length > 0) {
    return createHash('sha256').update('optimizely-mixpanel feature_flag.context.id\0').update(token).digest();
  }
  return randomBytes(32);
}

function tally(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
