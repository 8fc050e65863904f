import {
  DecisionNormalizer,
  EVENT_FEATURE_FLAG_EVALUATION,
  type Exposure,
  featureFlagEvaluationAttributes,
} from '@optimizely-mixpanel/core';
import { SessionDedupStore } from './session-dedup.js';
import type { BrowserOptions, BrowserStats, MixpanelBrowser } from './types.js';

const DECISION_6 = 'DECISION';
const DECISION_5 = 'DECISION:type, userId, attributes, decisionInfo';
const MAX_PENDING = 200;

type CreateInstance = (...args: unknown[]) => unknown;
interface NotificationCenter {
  addNotificationListener(type: string, listener: (payload: unknown) => void): number;
}

interface Enabled {
  options: BrowserOptions;
  mixpanel: MixpanelBrowser;
  normalizer: DecisionNormalizer;
  store: SessionDedupStore | undefined;
}

interface State {
  enabled: Enabled | undefined;
  /** Decisions made before enable(): replayed then, so none is lost. */
  pending: unknown[];
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

function count(reason: string): void {
  state.stats.skipped[reason] = (state.stats.skipped[reason] ?? 0) + 1;
}

function warnOnce(key: string, message: string): void {
  if (state.warned.has(key)) return;
  state.warned.add(key);
  console.warn(`[@optimizely-mixpanel/browser] ${message}`);
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
  const normalizer = new DecisionNormalizer({
    eventFormat: options.eventFormat ?? 'experiment_viewed',
    includeRollouts: options.includeRollouts ?? true,
    attributeAllowlist: options.attributeAllowlist ?? [],
    dedup: { windowMs: options.dedupWindowMs, maxEntries: options.dedupMaxEntries ?? 500 },
  });
  const store = normalizer.deduplicator ? new SessionDedupStore(normalizer.deduplicator) : undefined;
  store?.load();
  state.enabled = { options, mixpanel: options.mixpanel, normalizer, store };

  const sdk = options.sdk ?? (globalThis as { optimizelySdk?: { createInstance?: unknown } }).optimizelySdk;
  if (sdk) patchSdk(sdk);

  const pending = state.pending.splice(0);
  for (const notification of pending) handle(notification);
  return {
    stats: () => ({ exposed: state.stats.exposed, skipped: { ...state.stats.skipped } }),
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
    if (!client || typeof client !== 'object') return false;
    if (state.clients.has(client)) return true;
    const center = (client as { notificationCenter?: NotificationCenter }).notificationCenter;
    if (!center || typeof center.addNotificationListener !== 'function') return false;
    // 6.x names the type 'DECISION'; 5.x refuses that (-1) and wants its long form.
    let id = center.addNotificationListener(DECISION_6, onDecision);
    if (id === -1) id = center.addNotificationListener(DECISION_5, onDecision);
    if (id === -1) return false;
    state.clients.add(client);
    return true;
  } catch {
    return false;
  }
}

function onDecision(notification: unknown): void {
  if (state.enabled) handle(notification);
  else if (state.pending.length < MAX_PENDING) state.pending.push(notification);
  else count('dropped_before_enable');
}

/** Runs inside decide(): never throws. */
function handle(notification: unknown): void {
  const enabled = state.enabled;
  if (!enabled) return;
  try {
    const { mixpanel, options, normalizer } = enabled;
    if (mixpanel.has_opted_out_tracking?.() === true) {
      count('opted_out');
      return;
    }
    const result = normalizer.normalize(notification);
    if (result.decision && options.trace) recordEvaluation(options, result.decision, result.skipReason ?? 'exported');
    if (!result.exposure) {
      count(result.skipReason);
      return;
    }
    if (options.exposureHook && safeHook(options, result.exposure, result.decision) === false) {
      count('dropped_by_hook');
      return;
    }
    if (!alignIdentity(enabled, result.exposure)) {
      normalizer.forget(result.exposure);
      count('identity_mismatch');
      return;
    }
    send(enabled, result.exposure);
    state.stats.exposed++;
    enabled.store?.save();
  } catch (error) {
    count('error');
    warnOnce('handle', `a decision could not be sent to Mixpanel: ${String(error)}`);
  }
}

function safeHook(
  options: BrowserOptions,
  exposure: Exposure,
  decision: Parameters<NonNullable<BrowserOptions['exposureHook']>>[1],
) {
  try {
    return options.exposureHook?.(exposure, decision);
  } catch (error) {
    warnOnce('hook', `exposureHook threw; the exposure is sent unchanged: ${String(error)}`);
    return undefined;
  }
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

function send(enabled: Enabled, exposure: Exposure): void {
  const { mixpanel, options } = enabled;
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
}

function recordEvaluation(
  options: BrowserOptions,
  decision: Parameters<typeof featureFlagEvaluationAttributes>[0],
  outcome: string,
) {
  const span = options.trace?.getActiveSpan();
  if (!span?.isRecording()) return;
  const attributes: Record<string, string | number | boolean> = featureFlagEvaluationAttributes(decision);
  attributes['optimizely.exposure'] = outcome;
  span.addEvent(EVENT_FEATURE_FLAG_EVALUATION, attributes);
}

/** Counts since the page loaded. */
export function stats(): BrowserStats {
  return { exposed: state.stats.exposed, skipped: { ...state.stats.skipped } };
}
