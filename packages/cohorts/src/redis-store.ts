import { randomBytes } from 'node:crypto';
import type { RedisClientType } from 'redis';
import { applyRequest, type SyncSteps } from './sync.js';
import {
  type ApplyResult,
  type CohortInfo,
  type CohortRequest,
  type CohortStore,
  RetryableStoreError,
} from './types.js';

/** Pages of a sync, and the ids of applied syncs, live as long as Mixpanel's 3-day diff window. */
const TTL_SECONDS = 3 * 24 * 3600;
const CHUNK = 10_000;
/** How long a connection attempt may take, and a first read waits for it. */
const CONNECT_TIMEOUT_MS = 5000;

/** Options of {@link RedisCohortStore}. */
export interface RedisCohortStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...`. */
  url: string;
  /** Prefix of every key and of the change channel (default `mixpanel-cohorts:`). */
  keyPrefix?: string;
  /** Fallback poll of the version counter, for changes whose pub/sub message was missed (ms, default 1000). */
  pollIntervalMs?: number;
  /** Called with connection errors (the client reconnects by itself). */
  onError?: (error: Error) => void;
  /** Let the process exit while connected (for app processes that only read). Default false. */
  unref?: boolean;
}

type Client = RedisClientType;

/**
 * The store for fleets: the receiver writes, every app instance reads. Members
 * of a cohort are a Redis set; a full sync is built beside it and swapped in
 * with RENAME inside MULTI, so readers see the old or the new membership. Every
 * change bumps a version counter and is announced on a pub/sub channel.
 *
 * Keys (prefix `mixpanel-cohorts:`): `members:<id>` (set), `names`, `versions`
 * (hashes by cohort id), `version` (counter), `stage:<id>:<session>` (pages of a
 * sync in progress), `stages:<id>`, `done:<id>` (sets of session ids).
 */
export class RedisCohortStore implements CohortStore, SyncSteps {
  private readonly client: Client;
  private readonly prefix: string;
  private readonly pollIntervalMs: number;
  private readonly onError: (error: Error) => void;
  private readonly connecting: Promise<unknown>;
  /** Settles when the first connection is up or its attempt has had `CONNECT_TIMEOUT_MS`. */
  private readonly firstConnection: Promise<void>;
  private subscriber: Client | undefined;
  private closed = false;
  private readonly unref: boolean;

  constructor(options: RedisCohortStoreOptions) {
    this.prefix = options.keyPrefix ?? 'mixpanel-cohorts:';
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.onError = options.onError ?? (() => {});
    // Loaded on first use: processes on the file store never pay for the Redis client.
    const { createClient } = require('redis') as typeof import('redis');
    this.client = createClient({
      url: options.url,
      // Fail fast while disconnected: the receiver answers 503 and Mixpanel retries; readers keep their replica.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
      },
    }) as Client;
    this.client.on('error', (error: Error) => this.onError(error));
    this.unref = options.unref === true;
    if (this.unref) this.client.unref();
    this.connecting = this.client.connect().catch((error: Error) => this.onError(error));
    // connect() stays pending while Redis is down (the client keeps retrying): bounded here.
    this.firstConnection = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CONNECT_TIMEOUT_MS);
      timer.unref();
      void this.connecting.finally(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * The client for a read: a process's first read comes right after the store is
   * created, so it waits for the first connection (up to its timeout) rather than
   * failing while the client is still connecting.
   */
  private async reader(): Promise<Client> {
    if (!this.client.isReady) await this.firstConnection;
    return this.redis;
  }

  /** Resolves once connected; rejects after `timeoutMs`. */
  async ready(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.connecting.then(() => {
        if (!this.client.isReady) throw new Error('could not connect to Redis');
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  private get redis(): Client {
    if (!this.client.isReady) throw new RetryableStoreError('Redis is not connected');
    return this.client;
  }

  async apply(request: CohortRequest): Promise<ApplyResult> {
    return applyRequest(this, request);
  }

  async cohorts(): Promise<CohortInfo[]> {
    const redis = await this.reader();
    const [versions, names] = await Promise.all([
      redis.hGetAll(this.key('versions')),
      redis.hGetAll(this.key('names')),
    ]);
    const ids = Object.keys(versions);
    const counts = await Promise.all(ids.map((id) => redis.sCard(this.key('members', id))));
    return ids.map((id, i) => ({
      id,
      name: names[id] ?? id,
      version: Number(versions[id]),
      count: Number(counts[i]),
    }));
  }

  async members(cohortId: string): Promise<string[]> {
    const members: string[] = [];
    // SSCAN in slices: one SMEMBERS of a million members would stall Redis for every other client.
    const redis = await this.reader();
    for await (const slice of redis.sScanIterator(this.key('members', cohortId), { COUNT: CHUNK })) {
      for (const m of slice) members.push(String(m));
    }
    return [...new Set(members)];
  }

  watch(onChange: () => void): () => void {
    let stopped = false;
    let lastVersion: string | null | undefined;
    const channel = this.key('changed');
    const subscriber = this.client.duplicate() as Client;
    subscriber.on('error', (error: Error) => this.onError(error));
    if (this.unref) subscriber.unref();
    this.subscriber = subscriber;
    subscriber
      .connect()
      .then(() => subscriber.subscribe(channel, () => onChange()))
      .catch((error: Error) => this.onError(error));
    // Pub/sub loses messages while disconnected: the version counter catches what it missed.
    let busy = false;
    const timer = setInterval(() => {
      if (busy || stopped || !this.client.isReady) return;
      busy = true;
      this.client
        .get(this.key('version'))
        .then((version) => {
          // The first answer counts as a change too: a read that failed before Redis was reachable is retried.
          if (version !== lastVersion) onChange();
          lastVersion = version;
        })
        .catch((error: Error) => this.onError(error))
        .finally(() => {
          busy = false;
        });
    }, this.pollIntervalMs);
    timer.unref();
    return () => {
      stopped = true;
      clearInterval(timer);
      if (this.subscriber === subscriber) this.subscriber = undefined;
      subscriber.destroy();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber?.destroy();
    // A client still trying to connect would wait for Redis: stop it instead.
    if (this.client.isReady) await this.client.close().catch(() => this.client.destroy());
    else if (this.client.isOpen) this.client.destroy();
  }

  // --- SyncSteps ---

  async isDone(cohortId: string, sessionId: string): Promise<boolean> {
    return (await this.redis.sIsMember(this.key('done', cohortId), sessionId)) === 1;
  }

  async stagePage(request: CohortRequest & { sessionId: string }): Promise<number[]> {
    const stage = this.key('stage', request.cohortId, request.sessionId);
    const stages = this.key('stages', request.cohortId);
    const replies = await this.redis
      .multi()
      .hSet(stage, `page:${request.page}`, JSON.stringify(request.members))
      .expire(stage, TTL_SECONDS)
      .sAdd(stages, request.sessionId)
      .expire(stages, TTL_SECONDS)
      .hKeys(stage)
      .exec();
    const fields = replies[4] as unknown as string[];
    return fields.filter((f) => f.startsWith('page:')).map((f) => Number(f.slice(5)));
  }

  async stagedMembers(cohortId: string, sessionId: string): Promise<string[]> {
    const pages = await this.redis.hGetAll(this.key('stage', cohortId, sessionId));
    const members = new Set<string>();
    for (const [field, value] of Object.entries(pages)) {
      if (field.startsWith('page:')) for (const m of JSON.parse(value) as string[]) members.add(m);
    }
    return [...members];
  }

  async replace(cohortId: string, name: string | undefined, members: string[], sessionId: string | undefined) {
    const redis = this.redis;
    const target = this.key('members', cohortId);
    const tmp = this.key('tmp', cohortId, randomBytes(6).toString('hex'));
    const stages = this.key('stages', cohortId);
    const sessions = await redis.sMembers(stages);
    const multi = redis.multi();
    for (let i = 0; i < members.length; i += CHUNK) multi.sAdd(tmp, members.slice(i, i + CHUNK));
    if (members.length > 0) multi.rename(tmp, target);
    else multi.del(target);
    if (name !== undefined) multi.hSet(this.key('names'), cohortId, name);
    else multi.hSetNX(this.key('names'), cohortId, cohortId);
    multi.hIncrBy(this.key('versions'), cohortId, 1);
    if (sessions.length > 0) multi.del(sessions.map((s) => this.key('stage', cohortId, s)));
    multi.del(stages);
    if (sessionId !== undefined) {
      multi.sAdd(this.key('done', cohortId), sessionId);
      multi.expire(this.key('done', cohortId), TTL_SECONDS);
    }
    multi.incr(this.key('version'));
    await multi.exec();
    await this.announce();
    return new Set(members).size;
  }

  async change(cohortId: string, name: string | undefined, members: string[], add: boolean): Promise<number> {
    const redis = this.redis;
    const target = this.key('members', cohortId);
    const names = this.key('names');
    const [known, oldName] = await Promise.all([
      redis.hExists(this.key('versions'), cohortId),
      redis.hGet(names, cohortId),
    ]);
    let changed = Number(known) !== 1 || (name !== undefined && name !== oldName);
    for (let i = 0; i < members.length && !changed; i += CHUNK) {
      const present = await redis.smIsMember(target, members.slice(i, i + CHUNK));
      changed = present.some((p) => (Number(p) === 1) !== add);
    }
    if (changed) {
      // The membership change and the version bump land together: no reader can miss it.
      const multi = redis.multi();
      for (let i = 0; i < members.length; i += CHUNK) {
        const slice = members.slice(i, i + CHUNK);
        if (add) multi.sAdd(target, slice);
        else multi.sRem(target, slice);
      }
      if (name !== undefined) multi.hSet(names, cohortId, name);
      else multi.hSetNX(names, cohortId, cohortId);
      await multi.hIncrBy(this.key('versions'), cohortId, 1).incr(this.key('version')).exec();
      await this.announce();
    }
    return Number(await redis.sCard(target));
  }

  private async announce(): Promise<void> {
    await this.redis.publish(this.key('changed'), '1').catch((error: Error) => this.onError(error));
  }
}
