import {
  ATTR_MIXPANEL_INSERT_ID,
  type ClientConfigCache,
  type DecisionResult,
  deliver,
  EVENT_FEATURE_FLAG_EVALUATION,
  type Exposure,
  ExposurePipeline,
  type ExposureSink,
  type FlagDecision,
  featureFlagEvaluationAttributes,
  type HookProblem,
  hasEvents,
  type SkipReason,
  subscribeClient,
} from '@optimizely-mixpanel/core';
import { SessionDeduplicator } from './session-dedup.js';
import type { BrowserOptions, BrowserStats, MixpanelBrowser } from './types.js';

const MAX_PENDING = 200;

type CreateInstance = (...args: unknown[]) => unknown;

interface Enabled {
  options: BrowserOptions;
  mixpanel: MixpanelBrowser;
  pipeline: ExposurePipeline;
  sink: ExposureSink;
}

interface State {
  enabled: Enabled | undefined;
  /** Decisions made before enable(): replayed then, so none is lost. */
  pending: Array<[unknown, ClientConfigCache]>;
  clients: WeakSet<object>;
  stats: BrowserStats;
  warned: Set<string>;
}

// Shared through globalThis: the bundled re-export and the app's bootstrap may hold separate copies.
const STATE_KEY = Symbol.for('@optimizely-mixpanel/browser');
function sharedState(): State {
  const holder = globalThis as Record<symbol, unknown>;
  let existing = holder[STATE_KEY] as State | undefined;
  if (!existing) {
    existing = {
      enabled: undefined,
      pending: [],
      clients: new WeakSet(),
      stats: { exposed: 0, skipped: {} },
      warned: new Set(),
    };
    holder[STATE_KEY] = existing;
  }
  return existing;
}
const state = sharedState();

function count(reason: SkipReason): void {
  state.stats.skipped[reason] = (state.stats.skipped[reason] ?? 0) + 1;
}

function warnOnce(key: string, message: string): void {
  if (state.warned.has(key)) return;
  state.warned.add(key);
  console.warn(`[@optimizely-mixpanel/browser] ${message}`);
}

function reportHook(problem: HookProblem, error?: unknown): void {
  warnOnce(
    `hook-${problem}`,
    `exposureHook ${problem.replace('_', ' ')}; the exposure is sent as it stands: ${String(error ?? '')}`,
  );
}

/**
 * Enables the integration. Call it in the bootstrap, after `mixpanel.init()`
 * and before app code creates Optimizely clients. Patches the script-tag SDK
 * (`window.optimizelySdk`) in place; bundled apps route the SDK import through
 * the build plugin. Decisions made by instrumented clients before this call are
 * replayed now.
 *
 * @example
 * ```ts
 * import mixpanel from 'mixpanel-browser';
 * import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
 * mixpanel.init(TOKEN);
 * enableOptimizelyMixpanel({ mixpanel });
 * ```
 */
export function enableOptimizelyMixpanel(options: BrowserOptions): { stats(): BrowserStats; disable(): void } {
  if (!options?.mixpanel || typeof options.mixpanel.track !== 'function') {
    throw new TypeError('enableOptimizelyMixpanel needs the initialised mixpanel-browser instance: { mixpanel }');
  }
  const pipeline = new ExposurePipeline(
    {
      eventFormat: options.eventFormat,
      rollouts: options.rollouts,
      attributeAllowlist: options.attributeAllowlist,
      warn: (message) => warnOnce(message, message),
    },
    new SessionDeduplicator(options.dedupWindowMs, options.dedupMaxEntries),
  );
  const enabled: Enabled = {
    options,
    mixpanel: options.mixpanel,
    pipeline,
    sink: { send: (e) => send(enabled, e) },
  };
  state.enabled = enabled;

  const sdk = options.sdk ?? (globalThis as { optimizelySdk?: { createInstance?: unknown } }).optimizelySdk;
  if (sdk) patchSdk(sdk);

  for (const [notification, config] of state.pending.splice(0)) handle(notification, config);
  return {
    stats,
    disable: () => {
      state.enabled = undefined;
    },
  };
}

/** Wraps `createInstance` of an SDK module object in place (the UMD global); idempotent. */
export function patchSdk(sdk: { createInstance?: unknown }): void {
  const original = sdk.createInstance as (CreateInstance & { __optimizelyMixpanel?: boolean }) | undefined;
  if (typeof original !== 'function' || original.__optimizelyMixpanel) return;
  sdk.createInstance = wrapCreateInstance(original);
}

/** A `createInstance` that adds the DECISION listener before the client is returned. */
export function wrapCreateInstance(original: CreateInstance): CreateInstance {
  const wrapped = function createInstance(this: unknown, ...args: unknown[]) {
    const client = original.apply(this, args);
    if (client) instrumentClient(client);
    return client;
  };
  Object.defineProperty(wrapped, '__optimizelyMixpanel', { value: true });
  return wrapped;
}

/**
 * Adds the DECISION listener to a client the other routes cannot reach.
 * Idempotent: a client never gets two listeners. Returns whether it is instrumented.
 */
export function instrumentClient(client: unknown): boolean {
  try {
    return subscribeClient(client, onDecision, state.clients, undefined, (error) =>
      warnOnce('config', `getOptimizelyConfig() threw; rule kinds come from rule keys alone: ${String(error)}`),
    );
  } catch {
    return false;
  }
}

function onDecision(notification: unknown, config: ClientConfigCache): void {
  if (state.enabled) handle(notification, config);
  else if (state.pending.length < MAX_PENDING) state.pending.push([notification, config]);
  else count('dropped_before_enable');
}

/** Runs inside decide(): never throws. */
function handle(notification: unknown, clientConfig: ClientConfigCache): void {
  const enabled = state.enabled;
  if (!enabled) return;
  try {
    const { mixpanel, options, pipeline } = enabled;
    if (mixpanel.has_opted_out_tracking?.() === true) {
      count('opted_out');
      return;
    }
    const config = clientConfig.get();
    const active = options.trace?.getActiveSpan();
    const span = active?.isRecording() ? active : undefined;
    const outcome = pipeline.handle(notification, config, options.traceIds !== false ? span : undefined);
    const result = deliver(outcome, enabled.sink, options.exposureHook, count, reportHook);
    if (span && outcome.decision) {
      recordEvaluation(span, outcome.decision, result, config?.environmentKey, config?.revision, outcome.exposure);
    }
  } catch (error) {
    count('error');
    warnOnce('handle', `a decision could not be sent to Mixpanel: ${String(error)}`);
  }
}

/** The browser sink: complete exposures go to mixpanel-browser. */
function send(enabled: Enabled, exposure: Exposure): SkipReason | undefined {
  const { mixpanel, options } = enabled;
  if (!alignIdentity(enabled, exposure)) {
    enabled.pipeline.forget(exposure);
    return 'identity_mismatch';
  }
  const property = { [exposure.profileProperty.name]: exposure.profileProperty.value };
  // Super property first, so the exposure event and every later one carry the context.
  if (options.superProperties !== false) mixpanel.register(property);
  mixpanel.people.set(property);
  for (const event of exposure.events) {
    // mixpanel-browser adds distinct_id and the token itself. time and $insert_id are core's: a server
    // that rendered the page derived the same ones for this decision, so Mixpanel keeps one of the two.
    const { distinct_id: _id, ...properties } = event.properties;
    mixpanel.track(event.event, properties);
  }
  state.stats.exposed++;
  return undefined;
}

/** Makes Mixpanel's distinct_id the Optimizely user id, or refuses, per the identity policy. */
function alignIdentity(enabled: Enabled, exposure: Exposure): boolean {
  const current = enabled.mixpanel.get_distinct_id();
  if (current === exposure.distinctId) return true;
  if ((enabled.options.identity ?? 'identify') === 'identify') {
    enabled.mixpanel.identify(exposure.distinctId);
    return true;
  }
  warnOnce(
    'identity',
    `Optimizely user id differs from Mixpanel's distinct_id: exposures are skipped (identity: 'warn'). ` +
      "Use mixpanel.get_distinct_id() as the Optimizely user id, call mixpanel.identify(), or set identity: 'identify'.",
  );
  return false;
}

function recordEvaluation(
  span: { addEvent(name: string, attributes?: Record<string, string | number | boolean>): unknown },
  decision: FlagDecision,
  result: DecisionResult,
  setId: string | undefined,
  version: string | undefined,
  exposure: Exposure | undefined,
) {
  const attributes = featureFlagEvaluationAttributes(decision, result, setId, version);
  if (exposure?.insertId && hasEvents(exposure)) attributes[ATTR_MIXPANEL_INSERT_ID] = exposure.insertId;
  span.addEvent(EVENT_FEATURE_FLAG_EVALUATION, attributes);
}

/** Counts since the page loaded. */
export function stats(): BrowserStats {
  return { exposed: state.stats.exposed, skipped: { ...state.stats.skipped } };
}
