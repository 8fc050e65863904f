/**
 * What each user was last decided into, per flag, kept in bounded memory so the
 * application's own Mixpanel events can carry it (`[Optimizely] <flagKey>` =
 * variation), as the browser's super properties do.
 */

/** Options of {@link ExperimentContextStore}. */
export interface ExperimentContextOptions {
  /**
   * Distinct ids kept (default 100 000, the dedup memory's cap); beyond it the
   * least recently written is evicted. At about 200 bytes per id with two flags
   * (ids and values are shared with the SDK's strings), the default bounds the
   * store near 20 MB.
   */
  maxEntries?: number;
  /**
   * How long a user's context lives after their last exposure, in ms (default
   * 24 h). Context is written on exposures only, and a user deciding again and
   * again is exposed again once per dedup window (30 min), so any time to live
   * longer than that window keeps an active user's context alive; 24 h also
   * covers conversions tracked later the same day (a checkout after browsing, a
   * payment webhook) without attributing next week's events to a stale decision.
   */
  ttlMs?: number;
}

/** Context properties by name (`[Optimizely] checkout_redesign`) with the variation key (`off` when disabled). */
export type ExperimentProperties = Record<string, string>;

export const DEFAULT_CONTEXT_MAX_ENTRIES = 100_000;
export const DEFAULT_CONTEXT_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * One user's context: `[expiresAt, name0, value0, name1, value1, ...]`, a few flags at most, so a scan
 * beats a map; one array per user, as entries live for hours and each object is the collector's work.
 */
type Entry = [expiresAt: number, ...pairs: string[]];

/**
 * A bounded, time-limited map from distinct id to experiment context. Writes
 * move the id to the back of a `Map` (insertion order = write order), so the
 * oldest entries, which also expire first, sit at the front: eviction and
 * expiry sweep from there in amortized O(1). Reads never allocate.
 */
export class ExperimentContextStore {
  readonly maxEntries: number;
  readonly ttlMs: number;
  private readonly entries = new Map<string, Entry>();
  private evicted = 0;
  /** No entry expires before this (the front's expiry, read when last swept). */
  private frontExpiresAt = 0;
  /**
   * Write order is read through one iterator kept across writes: a new
   * iterator per eviction would pass every slot deleted since the Map last
   * compacted, and at the cap that made each write cost tens of microseconds.
   */
  private order: IterableIterator<[string, Entry]> | undefined;
  /** The least recently written entry, once read from `order` and until removed or written again. */
  private front: [string, Entry] | undefined;

  /** @throws TypeError on a non-positive `maxEntries` or `ttlMs`. */
  constructor(options: ExperimentContextOptions = {}) {
    this.maxEntries = positive('maxEntries', options.maxEntries, DEFAULT_CONTEXT_MAX_ENTRIES);
    this.ttlMs = positive('ttlMs', options.ttlMs, DEFAULT_CONTEXT_TTL_MS);
  }

  /** Records that `distinctId` was decided into `value` for the property `name`, at `nowMs`. */
  set(distinctId: string, name: string, value: string, nowMs: number = Date.now()): void {
    const entries = this.entries;
    let entry = entries.get(distinctId);
    if (entry === undefined) {
      entry = [0, name, value];
    } else {
      if (this.front?.[0] === distinctId) this.front = undefined; // it moves to the back
      entries.delete(distinctId); // re-inserted at the back below
      if (nowMs >= entry[0]) entry.length = 1; // stale flags go with the expired entry
      let i = 1;
      while (i < entry.length && entry[i] !== name) i += 2;
      if (i < entry.length) entry[i + 1] = value;
      else entry = entry.concat(name, value) as Entry; // exact size: push() would reserve ~16 spare slots
    }
    entry[0] = nowMs + this.ttlMs;
    entries.set(distinctId, entry);
    this.sweep(nowMs);
  }

  /** Merges properties read elsewhere (Redis) for `distinctId`, as written at `nowMs`. */
  merge(distinctId: string, properties: ExperimentProperties, nowMs: number = Date.now()): void {
    for (const name in properties) {
      const value = properties[name];
      if (typeof value === 'string') this.set(distinctId, name, value, nowMs);
    }
  }

  /** Whether `distinctId` has live context. */
  has(distinctId: string, nowMs: number = Date.now()): boolean {
    const entry = this.entries.get(distinctId);
    return entry !== undefined && nowMs < entry[0];
  }

  /** The live context of `distinctId` as a new object, or undefined. */
  get(distinctId: string, nowMs: number = Date.now()): ExperimentProperties | undefined {
    const entry = this.entries.get(distinctId);
    if (entry === undefined || nowMs >= entry[0]) return undefined;
    const out: ExperimentProperties = {};
    for (let i = 1; i < entry.length; i += 2) out[entry[i] as string] = entry[i + 1] as string;
    return out;
  }

  /**
   * Adds the live context of `distinctId` to `properties`, leaving every
   * property already there as it is (the application's value wins). Returns
   * whether `distinctId` had live context.
   */
  addTo(distinctId: string, properties: Record<string, unknown>, nowMs: number = Date.now()): boolean {
    const entry = this.entries.get(distinctId);
    if (entry === undefined || nowMs >= entry[0]) return false;
    for (let i = 1; i < entry.length; i += 2) {
      const name = entry[i] as string;
      if (!Object.hasOwn(properties, name)) properties[name] = entry[i + 1];
    }
    return true;
  }

  /** Distinct ids held (expired ones included until swept). */
  get size(): number {
    return this.entries.size;
  }

  /** Ids evicted by the entry cap (not by expiry) since creation. */
  get evictions(): number {
    return this.evicted;
  }

  clear(): void {
    this.entries.clear();
    this.order = undefined;
    this.front = undefined;
  }

  private sweep(nowMs: number): void {
    const entries = this.entries;
    // The front holds the least recently written: over the cap it goes.
    while (entries.size > this.maxEntries) {
      const oldest = this.peekFront();
      if (oldest === undefined) break;
      if (nowMs < oldest[1][0]) this.evicted++;
      this.dropFront();
    }
    // Expired entries go too, a couple per write. With one time to live, expiry follows write order,
    // so the front's expiry bounds every other: until then there is nothing to look at.
    if (nowMs < this.frontExpiresAt) return;
    for (let n = 0; n < 2; n++) {
      const first = this.peekFront();
      if (first === undefined) {
        this.frontExpiresAt = nowMs + this.ttlMs;
        return;
      }
      if (nowMs < first[1][0]) {
        this.frontExpiresAt = first[1][0];
        return;
      }
      this.dropFront();
    }
  }

  /** The least recently written entry, left in place. */
  private peekFront(): [string, Entry] | undefined {
    if (this.front !== undefined) return this.front;
    let next = this.order?.next();
    if (next === undefined || next.done === true) {
      // Exhausted (or never read): a new iterator starts at the first entry still held.
      this.order = this.entries.entries();
      next = this.order.next();
    }
    this.front = next.done === true ? undefined : next.value;
    return this.front;
  }

  private dropFront(): void {
    if (this.front === undefined) return;
    this.entries.delete(this.front[0]);
    this.front = undefined;
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number; got ${String(value)}`);
  }
  return Math.floor(value);
}
