/**
 * The experiment context shared by a fleet through Redis: decisions write it
 * (coalesced, pipelined, off the `decide()` path, with a TTL), and a service that
 * tracks an event for a user it never decided looks it up there.
 */
import type { ExperimentProperties } from './experiment-context.js';

/** The part of a node-redis (`redis` 4 to 6) client used here. */
export interface RedisClientLike {
  readonly isReady: boolean;
  multi(): RedisPipelineLike;
  connect?(): Promise<unknown>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  unref?(): void;
  close?(): Promise<unknown>;
  destroy?(): void;
}

/** A node-redis MULTI chain, run with `execAsPipeline()` (no transaction). */
export interface RedisPipelineLike {
  hSet(key: string, field: string, value: string): RedisPipelineLike;
  pExpire(key: string, ms: number): RedisPipelineLike;
  hGetAll(key: string): RedisPipelineLike;
  execAsPipeline(): Promise<unknown[]>;
}

/** Options of {@link RedisExperimentContext}. */
export interface RedisContextOptions {
  /** `redis://` or `rediss://` URL (`OPTIMIZELY_MIXPANEL_CONTEXT_REDIS_URL`); a client is created and owned. */
  url?: string;
  /** A node-redis client of the application's (connected or not); never closed here. */
  client?: RedisClientLike;
  /** Key prefix; the distinct id follows it. Default `optimizely-mixpanel:context:`. */
  keyPrefix?: string;
  /** Time to live of a user's context after their last exposure, in ms. */
  ttlMs: number;
  /** Longest wait for a lookup before the event goes without context (default 50 ms). */
  lookupTimeoutMs?: number;
  /** Writes waiting for Redis at most (default 10 000); beyond it writes are dropped and counted. */
  maxPendingWrites?: number;
  /**
   * Called on every failure (what failed, why, and how many users it concerned: a lookup's
   * ids, a write batch's writes), for counting and rate-limited warnings.
   */
  onFailure?: (
    operation: 'write' | 'lookup' | 'connect',
    reason: RedisFailureReason,
    error?: unknown,
    count?: number,
  ) => void;
}

/** Why a Redis operation gave nothing: too slow, not connected, an error, or too many writes waiting. */
export type RedisFailureReason = 'timeout' | 'unavailable' | 'error' | 'overflow';

/** What a lookup found: properties per distinct id found, or why it failed. */
export type LookupResult = { found: Map<string, ExperimentProperties>; failure?: RedisFailureReason };
type LookupFailure = { failure: RedisFailureReason; error?: unknown };

export const DEFAULT_LOOKUP_TIMEOUT_MS = 50;
export const DEFAULT_REDIS_KEY_PREFIX = 'optimizely-mixpanel:context:';

/**
 * Writes and reads the experiment context in Redis. One hash per distinct id
 * (`HSET prefix:<id> "[Optimizely] <flag>" <variation>`, `PEXPIRE` after each
 * write), so any instance reads what any other wrote. Nothing here throws or
 * rejects to the caller, and nothing keeps the process alive.
 */
export class RedisExperimentContext {
  private readonly client: RedisClientLike | undefined;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly onFailure: NonNullable<RedisContextOptions['onFailure']>;
  /** `[id, name, value, id, name, value, ...]`: no object per write. */
  private pending: string[] = [];
  private flushScheduled = false;
  private connecting: Promise<unknown> | undefined;
  private connectStartedAt = 0;
  private flushOnConnect = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: RedisContextOptions) {
    this.prefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.ttlMs = options.ttlMs;
    this.timeoutMs = options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
    this.maxPending = options.maxPendingWrites ?? 10_000;
    this.onFailure = options.onFailure ?? (() => {});
    if (options.client) {
      this.client = options.client;
      this.owned = false;
    } else {
      this.client = options.url
        ? createOwnClient(options.url, (error) => this.onFailure('connect', 'error', error))
        : undefined;
      this.owned = true;
      if (this.client) this.connect();
    }
  }

  /** Queues a write; it goes out with the others of this tick in one pipeline. Never blocks, never throws. */
  write(distinctId: string, name: string, value: string): void {
    if (this.pending.length >= this.maxPending * 3) {
      this.onFailure('write', 'overflow');
      return;
    }
    this.pending.push(distinctId, name, value);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushWrites());
    }
  }

  /**
   * Reads the context of `distinctIds` in one pipeline, waiting at most the
   * lookup timeout (a first connection still being made counts in it).
   * Resolves (never rejects) with what was found, and the failure if any.
   */
  lookup(distinctIds: readonly string[]): Promise<LookupResult> {
    const found = new Map<string, ExperimentProperties>();
    const client = this.client;
    if (!client || distinctIds.length === 0) return Promise.resolve({ found });
    // Not connected, and not about to be (the first attempt is older than the timeout): fail now.
    if (!client.isReady && (!this.connecting || Date.now() - this.connectStartedAt > this.timeoutMs)) {
      this.onFailure('lookup', 'unavailable', undefined, distinctIds.length);
      return Promise.resolve({ found, failure: 'unavailable' });
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<LookupFailure>((resolve) => {
      // Held by us, not AbortSignal.timeout (lost to GC on Node 20), and cleared when the lookup settles.
      timer = setTimeout(() => resolve({ failure: 'timeout' }), this.timeoutMs);
    });
    const read = (async (): Promise<LookupFailure | undefined> => {
      if (!client.isReady) await this.connecting;
      if (!client.isReady) return { failure: 'unavailable' };
      const pipeline = client.multi();
      for (const id of distinctIds) pipeline.hGetAll(this.prefix + id);
      const replies = await pipeline.execAsPipeline();
      for (let i = 0; i < distinctIds.length; i++) {
        const reply = replies[i];
        if (reply && typeof reply === 'object' && !(reply instanceof Error) && Object.keys(reply).length > 0) {
          found.set(distinctIds[i] as string, { ...(reply as ExperimentProperties) });
        }
      }
      return undefined;
    })().catch((error: unknown): LookupFailure => ({ failure: classify(error), error }));
    return Promise.race([read, timedOut]).then((failed) => {
      clearTimeout(timer);
      if (!failed) return { found };
      this.onFailure('lookup', failed.failure, failed.error, distinctIds.length);
      // What a late reply brings is not used: the event has gone.
      return { found: new Map(), failure: failed.failure };
    });
  }

  /** Sends pending writes and waits for them (for tests and shutdown); never rejects. */
  async flush(): Promise<void> {
    this.flushWrites();
    if (this.flushOnConnect && this.connecting) await withTimeout(this.connecting, 1000);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Flushes (waiting at most a second or two), then closes the client if it was created here. */
  async close(): Promise<void> {
    await withTimeout(this.flush(), 2000);
    if (!this.owned || !this.client) return;
    try {
      await this.client.close?.();
    } catch {
      this.client.destroy?.();
    }
  }

  private connect(): void {
    const client = this.client;
    if (!client?.connect) return;
    // After the first connect the client reconnects by itself.
    this.connectStartedAt = Date.now();
    const connecting = client.connect().then(
      () => undefined,
      (error: unknown) => this.onFailure('connect', 'unavailable', error),
    );
    this.connecting = connecting.finally(() => {
      this.connecting = undefined;
    });
  }

  private flushWrites(): void {
    this.flushScheduled = false;
    const client = this.client;
    if (this.pending.length === 0 || !client) return;
    if (!client.isReady && this.connecting) {
      // Still making the first connection (it may never come): these writes wait for it, bounded.
      if (!this.flushOnConnect) {
        this.flushOnConnect = true;
        void this.connecting.then(() => {
          this.flushOnConnect = false;
          this.flushWrites();
        });
      }
      return;
    }
    const batch = this.pending;
    this.pending = [];
    if (!client.isReady) {
      this.onFailure('write', 'unavailable', undefined, batch.length / 3);
      return;
    }
    const pipeline = client.multi();
    for (let i = 0; i < batch.length; i += 3) {
      const key = this.prefix + batch[i];
      pipeline.hSet(key, batch[i + 1] as string, batch[i + 2] as string).pExpire(key, this.ttlMs);
    }
    this.track(
      pipeline.execAsPipeline().catch((error: unknown) => {
        this.onFailure('write', classify(error), error, batch.length / 3);
      }),
    );
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }
}

/** Waits for `work` or `ms`, whichever comes first; never rejects. The timer is held and cleared. */
async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function classify(error: unknown): RedisFailureReason {
  const name = (error as { name?: string; constructor?: { name?: string } })?.constructor?.name ?? '';
  return /ClientClosed|ClientOffline|SocketClosed|Connection|Reconnect/i.test(name) ? 'unavailable' : 'error';
}

function createOwnClient(url: string, onError: (error: Error) => void): RedisClientLike {
  const { createClient } = require('redis') as typeof import('redis');
  const client = createClient({
    url,
    // Fail fast when down instead of queueing: a lookup must not wait for a reconnect.
    disableOfflineQueue: true,
    // A Redis that accepts commands but never answers must not grow our queue without bound.
    commandsQueueMaxLength: 100_000,
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000),
    },
  });
  client.on('error', onError);
  // A context cache must never keep the application's process alive.
  client.unref();
  return client as unknown as RedisClientLike;
}
