import type { Counter } from '@opentelemetry/api';
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  isWrapped,
  safeExecuteInTheMiddle,
} from '@opentelemetry/instrumentation';
import { registerMixpanelHost } from './http-redaction.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MIXPANEL_ENDPOINT,
  ATTR_OPTIMIZELY_MIXPANEL_CONTEXT_OPERATION,
  METRIC_APP_CLIENT_FAILURES,
  METRIC_CONTEXT_FAILURES,
} from './semconv.js';
import {
  ExperimentContext,
  type ExperimentContextConfig,
  setSharedExperimentContext,
  sharedExperimentContext,
} from './shared-context.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/** Configuration of {@link MixpanelInstrumentation}. Environment variables are read when an option is absent. */
export interface MixpanelInstrumentationConfig extends InstrumentationConfig {
  /**
   * Only these event names get experiment context (`OPTIMIZELY_MIXPANEL_CONTEXT_EVENTS`,
   * comma-separated). Default: every event.
   */
  includeEvents?: string[];
  /**
   * These event names never get it (`OPTIMIZELY_MIXPANEL_CONTEXT_EXCLUDE_EVENTS`).
   * Default: the exposure events (`Experiment Viewed`, `$experiment_started`) and identity events.
   */
  excludeEvents?: string[];
  /**
   * The experiment context's memory and Redis settings; when given they replace
   * the process's context (otherwise it comes from `OPTIMIZELY_MIXPANEL_CONTEXT_*`).
   */
  context?: ExperimentContextConfig;
}

/** What the instrumentation did, for tests and health checks. */
export interface MixpanelInstrumentationStats {
  /** Events that gained context from memory, from Redis, or had none to gain. */
  withLocalContext: number;
  withRedisContext: number;
  withoutContext: number;
  /** Events sent without context because the Redis lookup timed out or failed. */
  lookupFailed: number;
  /** Requests of the application's clients that failed (what their callbacks received as errors). */
  clientFailures: number;
}

/** Exposure events (ours and Mixpanel's own flags') and identity events. */
export const DEFAULT_EXCLUDED_EVENTS = [
  'Experiment Viewed',
  '$experiment_started',
  '$create_alias',
  '$identify',
  '$merge',
];
const MODULE = 'mixpanel';
const SUPPORTED = ['>=0.13.0 <1'];
const WARN_INTERVAL_MS = 60_000;
const MAX_DEFERRED = 10_000;

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Properties = Record<string, unknown>;
interface MixpanelModule {
  init?: Fn;
  default?: MixpanelModule;
  [Symbol.toStringTag]?: string;
}
interface MixpanelClient {
  token?: string;
  config?: { host?: string; port?: number };
  track?: Fn;
  track_batch?: Fn;
  import?: Fn;
  import_batch?: Fn;
  send_request?: Fn;
}
interface State {
  clients: WeakSet<object>;
  context: ExperimentContext | undefined;
  unsubscribe: (() => void) | undefined;
  stats: MixpanelInstrumentationStats;
  lastWarnAt: number;
  unwarned: number;
  include: Set<string> | undefined;
  exclude: Set<string>;
}

/**
 * Instruments the `mixpanel` package (the official Node client, 0.13 to 0.x,
 * by `require` or `import`). Every event the application tracks (`track`,
 * `track_batch`, `import`, `import_batch`) whose `distinct_id` (else `$user_id`,
 * else `$device_id`) has live experiment context gains `[Optimizely] <flagKey>`
 * = variation; a property the application set wins. A user without context in
 * memory is looked up in Redis when one is configured: the event waits for at
 * most the lookup timeout, and the client's events keep their order. Failed
 * requests of the application's client are counted and reported, and its
 * callbacks receive exactly what they would without this instrumentation.
 */
export class MixpanelInstrumentation extends InstrumentationBase<MixpanelInstrumentationConfig> {
  // The base constructor may patch before field initializers run: state is created on first use.
  declare private runtime: State | undefined;
  declare private clientFailures: Counter | undefined;
  declare private contextFailures: Counter | undefined;

  constructor(config: MixpanelInstrumentationConfig = {}) {
    super(`${PACKAGE_NAME}/mixpanel`, PACKAGE_VERSION, config);
  }

  override setConfig(config: MixpanelInstrumentationConfig = {}): void {
    super.setConfig(config);
    const state = this.state;
    state.include = eventSet(config.includeEvents ?? listFromEnv('OPTIMIZELY_MIXPANEL_CONTEXT_EVENTS'));
    state.exclude =
      eventSet(config.excludeEvents ?? listFromEnv('OPTIMIZELY_MIXPANEL_CONTEXT_EXCLUDE_EVENTS')) ??
      new Set(DEFAULT_EXCLUDED_EVENTS);
    if (config.context) {
      try {
        setSharedExperimentContext(new ExperimentContext(config.context));
      } catch (error) {
        this._diag.error(`experiment context keeps its previous settings: ${(error as Error).message}`);
      }
    }
  }

  override enable(): void {
    super.enable();
    try {
      this.context(); // connects to Redis now, not on the first event
    } catch (error) {
      this._diag.error(`experiment context unavailable: ${String(error)}`);
    }
  }

  /** Counts since creation. */
  stats(): MixpanelInstrumentationStats {
    return { ...this.state.stats };
  }

  protected init() {
    return [
      new InstrumentationNodeModuleDefinition(
        MODULE,
        SUPPORTED,
        (exports: MixpanelModule) => this.patchModule(exports),
        (exports: MixpanelModule) => this.unpatchModule(exports),
      ),
    ];
  }

  protected override _updateMetricInstruments(): void {
    this.clientFailures = this.meter.createCounter(METRIC_APP_CLIENT_FAILURES, {
      description: "Requests of the application's own Mixpanel client that failed",
    });
    this.contextFailures = this.meter.createCounter(METRIC_CONTEXT_FAILURES, {
      description:
        'Users whose experiment context a Redis lookup or write failed for (a failed lookup sends without it)',
    });
  }

  private get state(): State {
    this.runtime ??= {
      clients: new WeakSet(),
      context: undefined,
      unsubscribe: undefined,
      stats: { withLocalContext: 0, withRedisContext: 0, withoutContext: 0, lookupFailed: 0, clientFailures: 0 },
      lastWarnAt: -Infinity,
      unwarned: 0,
      include: undefined,
      exclude: new Set(DEFAULT_EXCLUDED_EVENTS),
    };
    return this.runtime;
  }

  /** The process's context, subscribed to once for the failure metric. */
  private context(): ExperimentContext {
    const state = this.state;
    const context = sharedExperimentContext();
    if (state.context !== context) {
      state.unsubscribe?.();
      state.context = context;
      state.unsubscribe = context.onFailure((operation, reason, count) => {
        this.contextFailures?.add(count, {
          [ATTR_OPTIMIZELY_MIXPANEL_CONTEXT_OPERATION]: operation,
          [ATTR_ERROR_TYPE]: reason,
        });
      });
    }
    return context;
  }

  private patchModule(exports: MixpanelModule): MixpanelModule {
    // `import Mixpanel from 'mixpanel'` hands the namespace: the CommonJS exports are its default.
    const targets = [exports, exports?.default].filter(
      (t, i, all): t is MixpanelModule => !!t && typeof t.init === 'function' && all.indexOf(t) === i,
    );
    for (const target of targets) {
      if (isWrapped(target.init)) continue;
      this._wrap(target, 'init', (original) => this.wrapInit(original as Fn));
    }
    return exports;
  }

  private unpatchModule(exports: MixpanelModule): void {
    for (const target of [exports, exports?.default]) {
      if (target && isWrapped(target.init)) this._unwrap(target, 'init');
    }
  }

  private wrapInit(original: Fn): Fn {
    const instrumentation = this;
    return function init(this: unknown, ...args: unknown[]) {
      const client = original.apply(this, args);
      instrumentation.instrumentClient(client);
      return client;
    };
  }

  /**
   * Instruments a client created before the instrumentation was enabled (or from
   * a bundled copy of `mixpanel`). Idempotent; returns whether it is instrumented.
   */
  instrumentClient(client: unknown): boolean {
    try {
      if (!client || typeof client !== 'object') return false;
      const state = this.state;
      if (state.clients.has(client)) return true;
      const c = client as MixpanelClient;
      if (typeof c.track !== 'function' || typeof c.send_request !== 'function') return false;
      const queue = new SendQueue((error) =>
        this._diag.error(`the application's Mixpanel call threw after its context lookup: ${String(error)}`),
      );
      this._wrap(c, 'track', (original) => this.wrapSingle(original as Fn, 1, queue));
      if (typeof c.import === 'function')
        this._wrap(c, 'import', (original) => this.wrapSingle(original as Fn, 2, queue));
      if (typeof c.track_batch === 'function')
        this._wrap(c, 'track_batch', (original) => this.wrapBatch(original as Fn, queue));
      if (typeof c.import_batch === 'function')
        this._wrap(c, 'import_batch', (original) => this.wrapBatch(original as Fn, queue));
      this._wrap(c, 'send_request', (original) => this.wrapSendRequest(original as Fn, c));
      if (c.config?.host) registerMixpanelHost(c.config.host);
      state.clients.add(client);
      return true;
    } catch (error) {
      this._diag.error(`could not instrument a Mixpanel client; it works as before: ${String(error)}`);
      return false;
    }
  }

  /** `track(event, properties, cb)` and `import(event, time, properties, cb)`: properties at `index`. */
  private wrapSingle(original: Fn, index: number, queue: SendQueue): Fn {
    const instrumentation = this;
    return function wrapped(this: unknown, ...args: unknown[]) {
      const send = () => original.apply(this, args);
      let lookup: Promise<void> | undefined;
      try {
        lookup = instrumentation.enrich(args[0], args[index]);
      } catch {
        // the event goes as it came
      }
      return queue.run(lookup, send);
    };
  }

  /** `track_batch(events, options, cb)` and `import_batch(events, options, cb)`. */
  private wrapBatch(original: Fn, queue: SendQueue): Fn {
    const instrumentation = this;
    return function wrapped(this: unknown, ...args: unknown[]) {
      const send = () => original.apply(this, args);
      let lookup: Promise<void> | undefined;
      try {
        lookup = instrumentation.enrichBatch(args[0]);
      } catch {
        // the events go as they came
      }
      return queue.run(lookup, send);
    };
  }

  /** Adds local context now; returns a promise when Redis must be asked first. */
  private enrich(event: unknown, properties: unknown): Promise<void> | undefined {
    if (!this.isEnabled() || !this.wants(event) || !isProperties(properties)) return undefined;
    const context = this.context();
    const id = distinctIdOf(properties, context);
    if (id === undefined) return undefined;
    const stats = this.state.stats;
    if (context.store.addTo(id, properties)) {
      stats.withLocalContext++;
      return undefined;
    }
    if (!context.redis) {
      stats.withoutContext++;
      return undefined;
    }
    return context.lookup([id]).then(({ found, failure }) => {
      const remote = found.get(id);
      if (remote) {
        addMissing(properties, remote);
        stats.withRedisContext++;
      } else if (failure) stats.lookupFailed++;
      else stats.withoutContext++;
    });
  }

  private enrichBatch(events: unknown): Promise<void> | undefined {
    if (!this.isEnabled() || !Array.isArray(events)) return undefined;
    const context = this.context();
    const stats = this.state.stats;
    let missing: Map<string, Properties[]> | undefined;
    for (const item of events) {
      if (!item || typeof item !== 'object') continue;
      const { event, properties } = item as { event?: unknown; properties?: unknown };
      if (!this.wants(event) || !isProperties(properties)) continue;
      const id = distinctIdOf(properties, context);
      if (id === undefined) continue;
      if (context.store.addTo(id, properties)) {
        stats.withLocalContext++;
      } else if (!context.redis) {
        stats.withoutContext++;
      } else {
        missing ??= new Map();
        const list = missing.get(id);
        if (list) list.push(properties);
        else missing.set(id, [properties]);
      }
    }
    if (!missing) return undefined;
    const wanted = missing;
    return context.lookup([...wanted.keys()]).then(({ found, failure }) => {
      for (const [id, list] of wanted) {
        const remote = found.get(id);
        for (const properties of list) {
          if (remote) {
            addMissing(properties, remote);
            stats.withRedisContext++;
          } else if (failure) stats.lookupFailed++;
          else stats.withoutContext++;
        }
      }
    });
  }

  private wants(event: unknown): boolean {
    if (typeof event !== 'string') return false;
    const state = this.state;
    return !state.exclude.has(event) && (state.include === undefined || state.include.has(event));
  }

  /** Observes every request's outcome; the callback gets the very same arguments. */
  private wrapSendRequest(original: Fn, client: MixpanelClient): Fn {
    const instrumentation = this;
    return function send_request(this: unknown, ...args: unknown[]) {
      const [options, callback] = args;
      const endpoint = String((options as { endpoint?: unknown } | undefined)?.endpoint ?? '');
      args[1] = function observed(this: unknown, ...results: unknown[]) {
        safeExecuteInTheMiddle(
          () => instrumentation.observe(results[0], endpoint, client),
          () => {},
        );
        if (typeof callback === 'function') return callback.apply(this, results);
        return undefined;
      };
      return original.apply(this, args);
    };
  }

  private observe(error: unknown, endpoint: string, client: MixpanelClient): void {
    const errors = Array.isArray(error) ? error.filter(Boolean) : error ? [error] : [];
    if (errors.length === 0) return;
    const state = this.state;
    state.stats.clientFailures += errors.length;
    for (const e of errors) {
      const code = (e as { code?: unknown }).code;
      this.clientFailures?.add(1, {
        [ATTR_MIXPANEL_ENDPOINT]: endpoint,
        [ATTR_ERROR_TYPE]: typeof code === 'string' ? code : 'server_error',
      });
    }
    const now = Date.now();
    if (now - state.lastWarnAt < WARN_INTERVAL_MS) {
      state.unwarned += errors.length;
      return;
    }
    const more = state.unwarned;
    state.lastWarnAt = now;
    state.unwarned = 0;
    let message = errors[0] instanceof Error ? errors[0].message : String(errors[0]);
    // A server's error text may quote what it was sent: never the token.
    if (client.token) message = message.split(client.token).join('[REDACTED]');
    this._diag.warn(
      `the application's Mixpanel client failed to send to ${endpoint || 'Mixpanel'}: ${message}` +
        (more > 0 ? ` (${more} more failures since the last report)` : ''),
    );
  }
}

/**
 * Keeps a client's calls in the order the application made them: while any
 * call waits for its Redis lookup, later calls (even those with local context)
 * wait behind it. Every wait is bounded by the lookup timeout.
 */
class SendQueue {
  private pending = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly onError: (error: unknown) => void) {}

  run(lookup: Promise<void> | undefined, send: () => unknown): unknown {
    if (lookup === undefined && this.pending === 0) return send();
    if (this.pending >= MAX_DEFERRED) lookup = undefined; // overloaded: no more lookups, order kept
    this.pending++;
    const ready = lookup ? Promise.all([this.tail, lookup.catch(() => {})]) : this.tail;
    this.tail = ready.then(() => {
      this.pending--;
      try {
        send();
      } catch (error) {
        this.onError(error);
      }
    });
    return undefined;
  }
}

function isProperties(value: unknown): value is Properties {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Mixpanel's identity (Simplified ID Merge): `distinct_id`, else `$user_id`, else
 * `$device:<$device_id>`, the id Mixpanel derives (and exposures carry); the bare
 * device id when only it has context in memory (it was the SDK user id).
 */
function distinctIdOf(properties: Properties, context: ExperimentContext): string | undefined {
  const id = idString(properties.distinct_id) ?? idString(properties.$user_id);
  if (id !== undefined) return id;
  const device = idString(properties.$device_id);
  if (device === undefined) return undefined;
  const derived = `$device:${device}`;
  return !context.store.has(derived) && context.store.has(device) ? device : derived;
}

function idString(id: unknown): string | undefined {
  if (typeof id === 'string') return id.length > 0 ? id : undefined;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return undefined;
}

function addMissing(properties: Properties, context: Record<string, string>): void {
  for (const name in context) if (!Object.hasOwn(properties, name)) properties[name] = context[name];
}

function eventSet(list: string[] | undefined): Set<string> | undefined {
  return list === undefined ? undefined : new Set(list);
}

function listFromEnv(name: string): string[] | undefined {
  const value = process.env[name];
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
