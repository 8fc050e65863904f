import type { Deduplicator } from '@optimizely-mixpanel/core';

// The dedup memory is kept in sessionStorage, so reloads within a session do not expose again.
const KEY = '__optimizely_mixpanel_seen';

/** `[ruleKey, variationKey, exportedAtMs]` of a (flag, user) key; stored as `[key, entry]` pairs. */
type Entry = [string, string, number];

/**
 * The page's dedup memory: a Map in recency order, at most `maxEntries` (a page
 * holds a few users' flags), saved to sessionStorage once per task after a change.
 */
export function sessionDedup(windowMs: number | undefined, maxEntries: number | undefined): Deduplicator {
  const windowLength = positiveOr(windowMs, 30 * 60 * 1000);
  const max = Math.max(1, Math.floor(positiveOr(maxEntries, 500)));
  let entries: Map<string, Entry>;
  let scheduled = false;
  // Blocked or corrupt storage leaves dedup to this page alone; an entry of another shape never matches.
  try {
    entries = new Map(JSON.parse(sessionStorage.getItem(KEY) as string));
  } catch {
    entries = new Map();
  }

  /** After the current task, once however many exposures it made; quota or privacy mode is ignored. */
  const save = () => {
    if (!scheduled) {
      scheduled = true;
      setTimeout(() => {
        scheduled = false;
        try {
          sessionStorage.setItem(KEY, JSON.stringify([...entries]));
        } catch {}
      });
    }
  };
  /** The flag key's length first: ('ab', 'c') and ('a', 'bc') differ. */
  const keyOf = (userId: string, flagKey: string) => `${flagKey.length}:${flagKey}${userId}`;

  return {
    windowMs: windowLength,
    seen(userId, flagKey, ruleKey, variationKey, nowMs) {
      const key = keyOf(userId, flagKey);
      const entry = entries.get(key);
      entries.delete(key);
      const seen = entry?.[0] === ruleKey && entry[1] === variationKey && nowMs - entry[2] < windowLength;
      // A repeat refreshes its recency, not its window.
      entries.set(key, seen ? (entry as Entry) : [ruleKey, variationKey, nowMs]);
      if (!seen) {
        if (entries.size > max) entries.delete(entries.keys().next().value as string);
        save();
      }
      return seen;
    },
    forget(userId, flagKey) {
      if (entries.delete(keyOf(userId, flagKey))) save();
    },
  };
}

function positiveOr(value: number | undefined, fallback: number): number {
  // Number.isFinite is false for anything but a finite number.
  return Number.isFinite(value) && (value as number) > 0 ? (value as number) : fallback;
}
