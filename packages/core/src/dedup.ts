/** Options of {@link ExposureDeduplicator}. */
export interface DeduplicatorOptions {
  /** How long an exported exposure suppresses identical ones, in ms. Default 30 minutes. */
  windowMs?: number;
  /** Most (user, flag) entries kept; the least recently seen are evicted beyond it. Default 100 000. */
  maxEntries?: number;
}

/** A persisted entry: `[flagKey, distinctId, ruleKey, variationKey, exportedAtMs]`. */
export type DedupEntry = [string, string, string, string, number];

/** The last exposure exported for one user and flag. */
interface Entry {
  rule: string;
  variation: string;
  /** Seconds since the deduplicator was created: a small integer V8 stores inline. */
  at: number;
}

/** Flag key, then user id: the SDK hands the same flag-key string every time and V8 caches string hashes. */
type Generation = Map<string, Map<string, Entry>>;

/**
 * Remembers, per user and flag, the last exposure exported, within a time
 * window and an entry cap. A decision is a duplicate when the same user got
 * the same rule and variation for the flag less than `windowMs` ago; any change
 * is a new exposure (so the profile property follows the user back and forth).
 *
 * Eviction is least-recently-used by generations (the hashlru scheme): entries
 * live in a current and a previous generation of at most half the cap each; an
 * entry seen again while in the previous one moves to the current one, and when
 * the current one fills up the previous one is dropped whole. A repeated
 * decision, the hot path, costs two `Map.get` on strings whose hashes V8 has
 * usually cached, and no allocation.
 */
export class ExposureDeduplicator {
  readonly windowMs: number;
  readonly maxEntries: number;
  private readonly generationSize: number;
  private current: Generation = new Map();
  private currentSize = 0;
  private previous: Generation = new Map();
  private previousSize = 0;
  /** Entries of `previous` that also stand in `current` (moved, not evicted, when `previous` is dropped). */
  private promoted = 0;
  private evictedCount = 0;
  private readonly originMs: number;

  constructor(options: DeduplicatorOptions = {}, nowMs: number = Date.now()) {
    this.windowMs = positiveOr(options.windowMs, 30 * 60 * 1000);
    this.maxEntries = Math.max(2, Math.floor(positiveOr(options.maxEntries, 100_000)));
    this.generationSize = Math.floor(this.maxEntries / 2);
    this.originMs = nowMs;
  }

  /**
   * Returns true when this user got this rule and variation for this flag less
   * than `windowMs` before `nowMs` (a duplicate). Otherwise records it as
   * exported at `nowMs` and returns false. A duplicate refreshes recency but
   * not the window, so a user decided every minute is exported once per window.
   */
  seen(distinctId: string, flagKey: string, ruleKey: string, variationKey: string, nowMs: number): boolean {
    const nowS = Math.floor((nowMs - this.originMs) / 1000);
    const entry = this.current.get(flagKey)?.get(distinctId);
    if (entry !== undefined) {
      if (this.same(entry, ruleKey, variationKey, nowS)) return true;
      entry.rule = ruleKey;
      entry.variation = variationKey;
      entry.at = nowS;
      return false;
    }
    const previous = this.previous.get(flagKey)?.get(distinctId);
    const duplicate = previous !== undefined && this.same(previous, ruleKey, variationKey, nowS);
    if (previous !== undefined) this.promoted++;
    this.insert(
      flagKey,
      distinctId,
      duplicate ? (previous as Entry) : { rule: ruleKey, variation: variationKey, at: nowS },
    );
    return duplicate;
  }

  /** Forgets the user's entry for the flag, so the next decision is exported again. */
  forget(distinctId: string, flagKey: string): void {
    const inCurrent = this.current.get(flagKey)?.delete(distinctId) === true;
    const inPrevious = this.previous.get(flagKey)?.delete(distinctId) === true;
    if (inCurrent) this.currentSize--;
    if (inPrevious) this.previousSize--;
    if (inCurrent && inPrevious) this.promoted--;
  }

  /** Distinct (user, flag) entries held now (at most `maxEntries`). */
  get size(): number {
    return this.currentSize + this.previousSize - this.promoted;
  }

  /** Entries evicted by the cap since creation (each may cause one repeated export). */
  get evictions(): number {
    return this.evictedCount;
  }

  /**
   * The entries still inside the window, oldest generation first, as
   * `[flagKey, distinctId, ruleKey, variationKey, exportedAtMs]`: for
   * persisting the memory (a browser session's sessionStorage) and {@link restore}.
   */
  snapshot(nowMs: number = Date.now()): DedupEntry[] {
    const out: DedupEntry[] = [];
    const seen = new Set<Entry>();
    for (const generation of [this.previous, this.current]) {
      for (const [flagKey, users] of generation) {
        for (const [distinctId, entry] of users) {
          const at = this.originMs + entry.at * 1000;
          if (seen.has(entry) || nowMs - at >= this.windowMs) continue;
          seen.add(entry);
          out.push([flagKey, distinctId, entry.rule, entry.variation, at]);
        }
      }
    }
    return out;
  }

  /** Takes entries back from {@link snapshot}; malformed ones are ignored. */
  restore(entries: readonly unknown[]): void {
    for (const item of entries) {
      if (!Array.isArray(item) || item.length !== 5) continue;
      const [flagKey, distinctId, rule, variation, at] = item as unknown[];
      if (typeof flagKey !== 'string' || typeof distinctId !== 'string') continue;
      if (typeof rule !== 'string' || typeof variation !== 'string' || typeof at !== 'number') continue;
      this.seen(distinctId, flagKey, rule, variation, at);
    }
  }

  private same(entry: Entry, ruleKey: string, variationKey: string, nowS: number): boolean {
    return entry.rule === ruleKey && entry.variation === variationKey && (nowS - entry.at) * 1000 < this.windowMs;
  }

  private insert(flagKey: string, distinctId: string, entry: Entry): void {
    if (this.currentSize >= this.generationSize) {
      this.evictedCount += this.previousSize - this.promoted;
      this.previous = this.current;
      this.previousSize = this.currentSize;
      this.current = new Map();
      this.currentSize = 0;
      this.promoted = 0;
    }
    let users = this.current.get(flagKey);
    if (users === undefined) {
      users = new Map();
      this.current.set(flagKey, users);
    }
    users.set(distinctId, entry);
    this.currentSize++;
  }
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
