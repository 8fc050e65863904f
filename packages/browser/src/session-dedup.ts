import type { Deduplicator } from '@optimizely-mixpanel/core';

// The dedup memory is kept in sessionStorage, so reloads within a session do not expose again.
const KEY = '__optimizely_mixpanel_dedup';

/** `[ruleKey, variationKey, exportedAtMs]` of a (flag, user) key. */
type Entry = [string, string, number];

/**
 * The page's dedup memory: a Map in recency order, at most `maxEntries` (a page
 * holds a few users' flags), saved to sessionStorage once per task after a change.
 */
export class SessionDeduplicator implements Deduplicator {
  readonly windowMs: number;
  private readonly maxEntries: number;
  private entries = new Map<string, Entry>();
  private scheduled = false;

  constructor(windowMs: number | undefined, maxEntries: number | undefined) {
    this.windowMs = positiveOr(windowMs, 30 * 60 * 1000);
    this.maxEntries = Math.max(1, Math.floor(positiveOr(maxEntries, 500)));
    // Blocked or corrupt storage leaves dedup to this page alone.
    try {
      for (const item of JSON.parse(sessionStorage.getItem(KEY) ?? '[]') as unknown[]) {
        const [key, rule, variation, at] = item as unknown[];
        if (typeof key === 'string' && typeof rule === 'string' && typeof variation === 'string' && Number.isFinite(at))
          this.entries.set(key, [rule, variation, at as number]);
      }
    } catch {}
  }

  seen(userId: string, flagKey: string, ruleKey: string, variationKey: string, nowMs: number): boolean {
    const key = keyOf(userId, flagKey);
    const entry = this.entries.get(key);
    this.entries.delete(key);
    if (entry && entry[0] === ruleKey && entry[1] === variationKey && nowMs - entry[2] < this.windowMs) {
      this.entries.set(key, entry); // recency refreshed, window not
      return true;
    }
    this.entries.set(key, [ruleKey, variationKey, nowMs]);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.save();
    return false;
  }

  forget(userId: string, flagKey: string): void {
    if (this.entries.delete(keyOf(userId, flagKey))) this.save();
  }

  /** After the current task, once however many exposures it made; quota or privacy mode is ignored. */
  private save(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      try {
        sessionStorage.setItem(KEY, JSON.stringify([...this.entries].map(([key, entry]) => [key, ...entry])));
      } catch {}
    }, 0);
  }
}

/** The flag key's length first: ('ab', 'c') and ('a', 'bc') differ. */
function keyOf(userId: string, flagKey: string): string {
  return `${flagKey.length}:${flagKey}${userId}`;
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
