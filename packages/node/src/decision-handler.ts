import { createHash } from 'node:crypto';
import { diag, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import {
  DecisionNormalizer,
  EVENT_FEATURE_FLAG_EVALUATION,
  type Exposure,
  type FlagDecision,
  featureFlagEvaluationAttributes,
  type RuleKind,
} from '@optimizely-mixpanel/core';
import type { MixpanelExporter } from '@optimizely-mixpanel/exporter';
import type { ClientConfig, ClientConfigCache } from './client-config.js';
import { ATTR_FEATURE_FLAG_CONTEXT_ID, ATTR_OPTIMIZELY_EXPOSURE, ATTR_OPTIMIZELY_RULE_KEY } from './semconv.js';
import { recordExperimentContext } from './shared-context.js';
import type { OptimizelyMixpanelInstrumentationConfig } from './types.js';
import { PACKAGE_NAME } from './version.js';

const log = diag.createComponentLogger({ namespace: PACKAGE_NAME });

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

/**
 * What runs inside every `decide()`: normalize, record the evaluation on the
 * active span, hand the exposure to the exporter or count the skip. It must be
 * fast and must never throw into the SDK.
 */
export class DecisionHandler {
  private readonly normalizer: DecisionNormalizer;
  /** The config of the client whose notification is being handled (set synchronously around normalize). */
  private current: ClientConfig | undefined;
  private warnedFailure = false;
  private readonly spanEvents: boolean;
  private readonly decisionSpans: boolean;

  constructor(
    private readonly config: OptimizelyMixpanelInstrumentationConfig,
    private readonly exporter: MixpanelExporter | undefined,
    private readonly tracer: () => Tracer,
  ) {
    this.spanEvents = config.spanEvents !== false;
    this.decisionSpans = config.decisionSpans === true;
    const windowMs = config.dedupWindowMs;
    this.normalizer = new DecisionNormalizer({
      eventFormat: config.eventFormat ?? 'experiment_viewed',
      includeRollouts: config.includeRollouts ?? true,
      includeLegacyTypes: config.includeLegacyTypes ?? false,
      attributeAllowlist: config.attributeAllowlist ?? [],
      dedup: windowMs === 0 ? false : { windowMs, maxEntries: config.dedupMaxEntries },
      ruleKind: (flagKey, ruleKey) => this.ruleKind(flagKey, ruleKey),
      dedupClock: coarseNow,
    });
  }

  /** Handles one DECISION notification of the client behind `clientConfig`. Never throws. */
  handle(notification: unknown, clientConfig: ClientConfigCache): void {
    try {
      const config = clientConfig.get();
      this.current = config;
      const result = this.normalizer.normalize(notification);
      if (result.exposure) recordExperimentContext(result.exposure, result.decision.userId);
      const outcome = result.exposure ? this.export(result.exposure, result.decision) : result.skipReason;
      if (!result.exposure) this.exporter?.countSkipped(result.skipReason);
      if (result.decision) {
        this.recordEvaluation(result.decision, (notification as { userId?: unknown }).userId, outcome, config);
      }
    } catch (error) {
      if (!this.warnedFailure) {
        this.warnedFailure = true;
        log.error(`decision handling failed; the application is unaffected: ${String(error)}`);
      }
    } finally {
      this.current = undefined;
    }
  }

  private ruleKind(flagKey: string, ruleKey: string): RuleKind | undefined {
    return this.current?.ruleKinds.get(flagKey)?.get(ruleKey);
  }

  /** Returns `exported`, or why it was not. */
  private export(exposure: Exposure, decision: FlagDecision): string {
    const hook = this.config.exposureHook;
    if (hook) {
      let keep: boolean | undefined = true;
      try {
        keep = hook(exposure, decision);
      } catch (error) {
        log.warn(`exposureHook threw; the exposure is sent unchanged: ${String(error)}`);
      }
      if (keep === false) {
        this.exporter?.countSkipped('dropped_by_hook');
        return 'dropped_by_hook';
      }
    }
    if (!this.exporter) return 'no_exporter';
    return this.exporter.export(exposure) ? 'exported' : 'dropped';
  }

  private recordEvaluation(
    decision: FlagDecision,
    userId: unknown,
    outcome: string,
    clientConfig: ClientConfig | undefined,
  ): void {
    const decisionSpans = this.decisionSpans;
    if (!this.spanEvents && !decisionSpans) return;
    const active = trace.getActiveSpan();
    const onActive = this.spanEvents && active?.isRecording() === true;
    if (!onActive && !decisionSpans) return;

    this.normalizer.fillRuleKind(decision); // for the reason; skipped decisions may not carry it yet
    const attributes: Record<string, string | number | boolean> = featureFlagEvaluationAttributes(decision, {
      setId: clientConfig?.environmentKey,
      version: clientConfig?.revision,
    });
    const contextId = this.contextId(userId);
    if (contextId) attributes[ATTR_FEATURE_FLAG_CONTEXT_ID] = contextId;
    if (decision.ruleKey) attributes[ATTR_OPTIMIZELY_RULE_KEY] = decision.ruleKey;
    attributes[ATTR_OPTIMIZELY_EXPOSURE] = outcome;

    if (onActive) this.applyHook(attributes, decision, active as Span);
    if (onActive) (active as Span).addEvent(EVENT_FEATURE_FLAG_EVALUATION, attributes);
    if (decisionSpans) {
      const span = this.tracer().startSpan(EVENT_FEATURE_FLAG_EVALUATION, { kind: SpanKind.INTERNAL });
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
      log.warn(`evaluationHook threw; recorded without it: ${String(error)}`);
    }
  }

  private contextId(userId: unknown): string | undefined {
    if (typeof userId !== 'string' || userId.length === 0) return undefined;
    const policy = this.config.contextId ?? 'hashed';
    if (policy === 'none') return undefined;
    if (policy === 'raw') return userId;
    return createHash('sha256').update(userId).digest('hex').slice(0, 32);
  }
}
