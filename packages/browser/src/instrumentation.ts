import {
  type ClientConfigCache,
  type DecisionResult,
  type Exposure,
  ExposurePipeline,
  type SkipReason,
  subscribeWith,
} from '@optimizely-mixpanel/core';
import { sessionDedup } from './session-dedup.js';
import type { BrowserOptions, BrowserStats } from './types.js';

type CreateInstance = (...args: unknown[]) => unknown;
type Handler = (notification: unknown, config: ClientConfigCache) => void;

interface State {
  /** The enabled integration's handler; absent before enable and after disable. */
  handle?: Handler | undefined;
  /** Decisions made before enable(): replayed then, so none is lost. */
  pending: Array<[unknown, ClientConfigCache]>;
  clients: WeakSet<object>;
  stats: BrowserStats;
  warned: Set<string>;
}

// Shared through globalThis: the bundled re-export and the app's bootstrap may hold separate copies.
const STATE_KEY = Symbol.for('@optimizely-mixpanel/browser');
const holder = globalThis as Record<symbol, State | undefined>;
holder[STATE_KEY] ??= {
  pending: [],
  clients: new WeakSet(),
  stats: { exposed: 0, skipped: {} },
  warned: new Set(),
};
const state = holder[STATE_KEY];

function count(reason: SkipReason): void {
  const skipped = state.stats.skipped;
  skipped[reason] = (skipped[reason] ?? 0) + 1;
}

/** Warns once per message; `error`, when given, is logged with it but not part of what makes it once. */
export function warnOnce(message: string, ...error: unknown[]): void {
  const warned = state.warned;
  if (!warned.has(message)) {
    warned.add(message);
    // Inside decide() and the pipeline's constructor: a console that throws changes nothing.
    try {
      console.warn(`[@optimizely-mixpanel/browser] ${message}`, ...error);
    } catch {}
  }
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
  const mixpanel = options?.mixpanel;
  if (typeof mixpanel?.track !== 'function') {
    throw new TypeError('enableOptimizelyMixpanel needs { mixpanel }');
  }
  const { tracing, exposureHook, eventFormat } = options;
  const pipeline = new ExposurePipeline(
    { rollouts: options.rollouts, warn: warnOnce },
    sessionDedup(options.dedupWindowMs, options.dedupMaxEntries),
    options.attributes,
    // Made by eventFormat() of /event-format; anything else (the option's earlier string) leaves the default.
    typeof eventFormat === 'function' ? eventFormat : undefined,
  );

  /** Complete exposures go to mixpanel-browser. */
  const send = (exposure: Exposure): SkipReason | undefined => {
    const distinctId = exposure.distinctId;
    // Mixpanel's distinct_id becomes the Optimizely user id, or the exposure is refused, per `identity`.
    if (mixpanel.get_distinct_id() !== distinctId) {
      if ((options.identity ?? 'identify') !== 'identify') {
        pipeline.forget(exposure);
        warnOnce("user id differs from Mixpanel's distinct_id: exposure skipped");
        return 'identity_mismatch';
      }
      mixpanel.identify(distinctId);
    }
    const { name, value } = exposure.profileProperty;
    const property = { [name]: value };
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
  };

  /** Runs inside decide(): never throws. */
  const handle: Handler = (notification, clientConfig) => {
    try {
      if (mixpanel.has_opted_out_tracking?.() === true) return count('opted_out');
      const config = clientConfig.get();
      const traced = tracing?.();
      const outcome = pipeline.handle(notification, config, traced?.traceId);
      let result: DecisionResult;
      if (exposureHook) {
        // Through `deliver`: a bare function, not made by exposureHook(), fails (counted as `error`), unsent.
        result = exposureHook.deliver(outcome, send, count);
      } else {
        result = (outcome.exposure ? send(outcome.exposure) : outcome.skipReason) ?? 'exported';
        if (result !== 'exported') count(result);
      }
      traced?.end(outcome, result, config);
    } catch (error) {
      count('error');
      warnOnce('a decision was not sent', error);
    }
  };
  state.handle = handle;

  const sdk = options.sdk ?? (globalThis as { optimizelySdk?: { createInstance?: unknown } }).optimizelySdk;
  if (sdk) patchSdk(sdk);

  for (const [notification, config] of state.pending.splice(0)) handle(notification, config);
  return {
    stats,
    disable: () => {
      state.handle = undefined;
    },
  };
}

/** Wraps `createInstance` of an SDK module object in place (the UMD global); idempotent. */
export function patchSdk(sdk: { createInstance?: unknown }): void {
  const original = sdk.createInstance as (CreateInstance & { __optimizelyMixpanel?: boolean }) | undefined;
  if (typeof original === 'function' && !original.__optimizelyMixpanel)
    sdk.createInstance = wrapCreateInstance(original);
}

/** A `createInstance` that adds the DECISION listener before the client is returned. */
export function wrapCreateInstance(original: CreateInstance): CreateInstance {
  const wrapped = function createInstance(this: unknown, ...args: unknown[]) {
    const client = original.apply(this, args);
    instrumentClient(client); // false for no client
    return client;
  };
  wrapped.__optimizelyMixpanel = true;
  return wrapped;
}

/**
 * Adds the DECISION listener to a client the other routes cannot reach.
 * Idempotent: a client never gets two listeners. Returns whether it is instrumented.
 */
export function instrumentClient(client: unknown): boolean {
  try {
    return subscribeWith(client, onDecision, state.clients, undefined, (error) =>
      warnOnce('getOptimizelyConfig() threw', error),
    );
  } catch {
    return false;
  }
}

function onDecision(notification: unknown, config: ClientConfigCache): void {
  if (state.handle) state.handle(notification, config);
  else if (state.pending.length < 200) state.pending.push([notification, config]);
  else count('dropped_before_enable');
}

/** Counts since the page loaded. */
export function stats(): BrowserStats {
  return structuredClone(state.stats);
}
