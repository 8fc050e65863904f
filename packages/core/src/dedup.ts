/** Options of {@link ExposureDeduplicator}. */
export interface DeduplicatorOptions {
  /** How long an exported exposure suppresses identical ones, in ms. Default 30 minutes. */
  windowMs?: number;
  /** Most entries kept; the least recently seen are evicted beyond it. Default 100 000. */
  maxEntries?: number;
}

/**
 * Remembers recently exported exposures by key, within a time window and an
 * entry cap. Eviction is least-recently-used by generations (the hashlru
 * scheme): keys live in a current and a previous Map of at most half the cap
 * each; a key seen again while in the previous generation moves to the
 * current one, and when the current one fills up the previous one is dropped
 * whole. A repeated decision, the hot path, costs one `Map.get`.
 *
 * Values are seconds since this instance was created: small integers that V8
 * stores inline (no heap number per entry).
 */
export class ExposureDeduplicator {
  readonly windowMs: number;
  readonly maxEntries: number;
  private readonly generationSize: number;
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  /** Keys of `previous` that also stand in `current` (moved, not evicted, when `previous` is dropped). */
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
   * Returns true when `key` was exported less than `windowMs` before `nowMs`
   * (a duplicate). Otherwise records `key` as exported at `nowMs` and returns
   * false. A duplicate refreshes recency but not the window, so a user who is
   * decided every minute is exported again once per window.
   */
  seen(key: string, nowMs: number): boolean {
    const nowS = Math.floor((nowMs - this.originMs) / 1000);
    const exportedS = this.current.get(key);
    if (exportedS !== undefined) {
      if ((nowS - exportedS) * 1000 < this.windowMs) return true;
      this.current.set(key, nowS);
      return false;
    }
    const previousS = this.previous.get(key);
    const duplicate = previousS !== undefined && (nowS - previousS) * 1000 < this.windowMs;
    if (previousS !== undefined) this.promoted++;
    this.insert(key, duplicate ? (previousS as number) : nowS);
    return duplicate;
  }

  /** Forgets `key`, so the next identical exposure is exported again. */
  forget(key: string): void {
    const inCurrent = this.current.delete(key);
    if (this.previous.delete(key) && inCurrent) this.promoted--;
  }

  /** Distinct keys currently held (at most `maxEntries`). */
  get size(): number {
    return this.current.size + this.previous.size - this.promoted;
  }

  /** Keys evicted by the cap since creation (each may cause one repeated export). */
  get evictions(): number {
    return this.evictedCount;
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
    this.promoted = 0;
  }

  private insert(key: string, exportedS: number): void {
    if (this.current.size >= this.generationSize) {
      this.evictedCount += this.previous.size - this.promoted;
      this.previous = this.current;
      this.current = new Map();
      this.promoted = 0;
    }
    this.current.set(key, exportedS);
  }
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
