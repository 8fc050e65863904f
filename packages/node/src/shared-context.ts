/**
 * The process-wide experiment context: written by the decision path, read by
 * the `mixpanel` instrumentation and by {@link experimentContext} /
 * {@link experimentContextAsync}. Kept on `globalThis` so that two copies of
 * this package in one process (a preload and a bundled import) share it.
 */
import { diag } from '@opentelemetry/api';
import { RateLimitedLog } from '@optimizely-mixpanel/exporter';
import {
  type ExperimentContextOptions,
  ExperimentContextStore,
  type ExperimentProperties,
} from './experiment-context.js';
import {
  type LookupResult,
  type RedisClientLike,
  RedisExperimentContext,
  type RedisFailureReason,
} from './redis-context.js';
import { PACKAGE_NAME } from './version.js';

const log = diag.createComponentLogger({ namespace: PACKAGE_NAME });
const WARN_INTERVAL_MS = 60_000;

/** Configuration of the experiment context (memory, and Redis when a URL or client is given). */
export interface ExperimentContextConfig extends ExperimentContextOptions {
  /** Redis URL (`OPTIMIZELY_MIXPANEL_CONTEXT_REDIS_URL`): decisions are shared with every service using it. */
  redisUrl?: string;
  /** A node-redis client of the application's, instead of a URL (never closed by us). */
  redisClient?: RedisClientLike;
  /** Key prefix in Redis (default `optimizely-mixpanel:context:`). */
  redisKeyPrefix?: string;
  /** Longest wait for a Redis lookup before an event goes without context, ms (default 50). */
  lookupTimeoutMs?: number;
}

/** Counts of what went wrong, by operation and reason (each also reported by a rate-limited diag warning). */
export type ContextFailureCounts = Record<'write' | 'lookup' | 'connect', Partial<Record<RedisFailureReason, number>>>;
/** Told of each failure, with how many users it concerned. */
export type ContextFailureListener = (
  operation: 'write' | 'lookup' | 'connect',
  reason: RedisFailureReason,
  count: number,
) => void;

/** Memory, plus Redis when configured. Nothing here throws to its caller. */
export class ExperimentContext {
  readonly store: ExperimentContextStore;
  readonly redis: RedisExperimentContext | undefined;
  readonly failures: ContextFailureCounts = { write: {}, lookup: {}, connect: {} };
  private readonly listeners = new Set<ContextFailureListener>();
  /** One line per kind of failure per minute, with how many were not reported. */
  private readonly log = new RateLimitedLog(log, WARN_INTERVAL_MS);

  /** @throws TypeError on an invalid option. */
  constructor(config: ExperimentContextConfig = {}) {
    this.store = new ExperimentContextStore(config);
    if (config.redisUrl || config.redisClient) {
      this.redis = new RedisExperimentContext({
        url: config.redisUrl,
        client: config.redisClient,
        keyPrefix: config.redisKeyPrefix,
        ttlMs: this.store.ttlMs,
        lookupTimeoutMs: config.lookupTimeoutMs,
        onFailure: (operation, reason, error, count) => this.fail(operation, reason, error, count),
      });
    }
  }

  /** Records one exposure outcome: memory now, Redis in the next pipeline. */
  record(distinctId: string, name: string, value: string, nowMs: number): void {
    this.store.set(distinctId, name, value, nowMs);
    this.redis?.write(distinctId, name, value);
  }

  /** Local context of `distinctId`, or undefined. */
  get(distinctId: string): ExperimentProperties | undefined {
    return this.store.get(distinctId);
  }

  /** Local context, else Redis's (bounded by the lookup timeout); undefined when there is none. */
  async getAsync(distinctId: string): Promise<ExperimentProperties | undefined> {
    const local = this.store.get(distinctId);
    if (local || !this.redis) return local;
    const { found } = await this.redis.lookup([distinctId]);
    return found.get(distinctId);
  }

  /** Looks `distinctIds` up in Redis (none configured: found nothing). Never rejects. */
  lookup(distinctIds: readonly string[]): Promise<LookupResult> {
    return this.redis ? this.redis.lookup(distinctIds) : Promise.resolve({ found: new Map() });
  }

  /** Called with every failure, e.g. to count it as a metric. Returns the unsubscribe function. */
  onFailure(listener: ContextFailureListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends pending Redis writes and waits for them. */
  async flush(): Promise<void> {
    await this.redis?.flush();
  }

  async close(): Promise<void> {
    await this.redis?.close();
  }

  private fail(
    operation: 'write' | 'lookup' | 'connect',
    reason: RedisFailureReason,
    error?: unknown,
    count = 1,
  ): void {
    const counts = this.failures[operation];
    counts[reason] = (counts[reason] ?? 0) + count;
    for (const listener of this.listeners) {
      try {
        listener(operation, reason, count);
      } catch {
        // a listener's failure is its own
      }
    }
    const what =
      operation === 'lookup'
        ? 'experiment context lookup in Redis failed; the event is sent without it'
        : operation === 'write'
          ? 'experiment context not written to Redis'
          : 'Redis connection for the experiment context failed';
    const detail = error instanceof Error ? `: ${error.message}` : '';
    this.log.warn(`${operation}:${reason}`, `${what} (${reason}${detail})`);
  }
}

const KEY = Symbol.for('@optimizely-mixpanel/node.experiment-context');
type Holder = { [KEY]?: ExperimentContext };

/**
 * The process's experiment context, created on first use from the
 * environment (`OPTIMIZELY_MIXPANEL_CONTEXT_*`). An invalid variable is
 * reported and the defaults apply.
 */
export function sharedExperimentContext(): ExperimentContext {
  const holder = globalThis as Holder;
  let current = holder[KEY];
  if (current === undefined) {
    try {
      current = new ExperimentContext(contextConfigFromEnv());
    } catch (error) {
      log.error(`experiment context uses its defaults: ${(error as Error).message}`);
      current = new ExperimentContext();
    }
    holder[KEY] = current;
  }
  return current;
}

/** Replaces the process's experiment context (the previous one is flushed and closed). */
export function setSharedExperimentContext(context: ExperimentContext): void {
  const holder = globalThis as Holder;
  const previous = holder[KEY];
  holder[KEY] = context;
  if (previous && previous !== context) void previous.close();
}

/**
 * The decision path's hook: every complete exposure outcome (experiment or
 * rollout) updates the context of its user, under the exposure's distinct id
 * and, when that differs (identity attributes), the SDK user id too. Costs a
 * map write; Redis is written in the next tick.
 */
export function recordExperimentContext(
  outcome: { distinctId: string; profileProperty: { name: string; value: string }; timestamp: number },
  sdkUserId?: unknown,
): void {
  try {
    const context = sharedExperimentContext();
    const { name, value } = outcome.profileProperty;
    context.record(outcome.distinctId, name, value, outcome.timestamp);
    if (typeof sdkUserId === 'string' && sdkUserId !== outcome.distinctId && sdkUserId.length > 0) {
      context.record(sdkUserId, name, value, outcome.timestamp);
    }
  } catch {
    // never into decide()
  }
}

/**
 * What `distinctId` was last decided into in this process, as Mixpanel
 * properties (`{ "[Optimizely] checkout_redesign": "variation_a" }`), or
 * undefined. For events sent through Segment, RudderStack or your own HTTP.
 *
 * @example
 * ```ts
 * analytics.track({ userId, event: 'Purchase', properties: { ...experimentContext(userId), total } });
 * ```
 */
export function experimentContext(distinctId: string): ExperimentProperties | undefined {
  try {
    return sharedExperimentContext().get(String(distinctId));
  } catch {
    return undefined;
  }
}

/**
 * Like {@link experimentContext}, falling back to Redis (when configured) for
 * users decided by another service; resolves within the lookup timeout, never
 * rejects.
 */
export async function experimentContextAsync(distinctId: string): Promise<ExperimentProperties | undefined> {
  try {
    return await sharedExperimentContext().getAsync(String(distinctId));
  } catch {
    return undefined;
  }
}

function intFromEnv(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new TypeError(`${name} must be a whole number > 0; got ${JSON.stringify(value)}`);
  return n;
}

/** Reads `OPTIMIZELY_MIXPANEL_CONTEXT_*`. @throws TypeError naming the variable when a value is invalid. */
export function contextConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ExperimentContextConfig {
  const config: ExperimentContextConfig = {};
  const maxEntries = intFromEnv('OPTIMIZELY_MIXPANEL_CONTEXT_MAX_ENTRIES', env.OPTIMIZELY_MIXPANEL_CONTEXT_MAX_ENTRIES);
  const ttlMs = intFromEnv('OPTIMIZELY_MIXPANEL_CONTEXT_TTL_MS', env.OPTIMIZELY_MIXPANEL_CONTEXT_TTL_MS);
  const timeout = intFromEnv(
    'OPTIMIZELY_MIXPANEL_CONTEXT_LOOKUP_TIMEOUT_MS',
    env.OPTIMIZELY_MIXPANEL_CONTEXT_LOOKUP_TIMEOUT_MS,
  );
  const url = env.OPTIMIZELY_MIXPANEL_CONTEXT_REDIS_URL?.trim();
  if (maxEntries !== undefined) config.maxEntries = maxEntries;
  if (ttlMs !== undefined) config.ttlMs = ttlMs;
  if (timeout !== undefined) config.lookupTimeoutMs = timeout;
  if (url) {
    if (!/^rediss?:\/\//.test(url)) {
      throw new TypeError('OPTIMIZELY_MIXPANEL_CONTEXT_REDIS_URL must be a redis:// or rediss:// URL');
    }
    config.redisUrl = url;
  }
  return config;
}
