/** Options of {@link ExposureDeduplicator}. */
export interface DeduplicatorOptions {
  /** How long an exported exposure suppresses identical ones, in ms. Default 30 minutes. */
  windowMs?: number;
  /** Most entries kept; the least recently seen is evicted beyond it. Default 100 000. */
  maxEntries?: number;
}

/**
 * Remembers recently exported exposures by key, within a time window and an
 * entry cap (least-recently-used eviction). A Map keeps insertion order, so
 * re-inserting on every hit makes its first key the least recently used.
 *
 * Values are seconds since this instance was created: small integers that V8
 * stores inline (no heap number per entry).
 */
export class ExposureDeduplicator {
  readonly windowMs: number;
  readonly maxEntries: number;
  private readonly entries = new Map<string, number>();
  private readonly originMs: number;
  private evictedCount = 0;

  constructor(options: DeduplicatorOptions = {}, nowMs: number = Date.now()) {
    this.windowMs = positiveOr(options.windowMs, 30 * 60 * 1000);
    this.maxEntries = Math.floor(positiveOr(options.maxEntries, 100_000));
    this.originMs = nowMs;
  }

  /**
   * Returns true when `key` was exported less than `windowMs` before `nowMs`
   * (a duplicate). Otherwise records `key` as exported at `nowMs` and returns false.
   * A duplicate refreshes recency but not the window, so a user deciding every
   * minute is exported again once per window.
   */
  seen(key: string, nowMs: number): boolean {
    const nowS = Math.floor((nowMs - this.originMs) / 1000);
    const exportedS = this.entries.get(key);
    if (exportedS !== undefined) {
      this.entries.delete(key);
      if ((nowS - exportedS) * 1000 < this.windowMs) {
        this.entries.set(key, exportedS);
        return true;
      }
    } else if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictedCount++;
    }
    this.entries.set(key, nowS);
    return false;
  }

  /** Forgets `key`, so the next identical exposure is exported again. */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Entries currently held. */
  get size(): number {
    return this.entries.size;
  }

  /** Entries evicted by the cap since creation (each may cause one repeated export). */
  get evictions(): number {
    return this.evictedCount;
  }

  clear(): void {
    this.entries.clear();
  }
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
