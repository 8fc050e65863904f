import type { ExposureDeduplicator } from '@optimizely-mixpanel/core';

// The dedup memory is kept in sessionStorage, so reloads within a session do not expose again.
const KEY = '__optimizely_mixpanel_dedup';
let scheduled = false;

/** Restores the session's dedup memory; blocked or corrupt storage leaves dedup to this page alone. */
export function loadDedup(deduplicator: ExposureDeduplicator): void {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw) deduplicator.restore(JSON.parse(raw) as unknown[]);
  } catch {}
}

/** Saves after the current task, once however many exposures it made; quota or privacy mode is ignored. */
export function saveDedup(deduplicator: ExposureDeduplicator): void {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    try {
      sessionStorage.setItem(KEY, JSON.stringify(deduplicator.snapshot()));
    } catch {}
  }, 0);
}
