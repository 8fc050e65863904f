import type { ExposureDeduplicator } from '@optimizely-mixpanel/core';

const KEY = '__optimizely_mixpanel_dedup';

/** Keeps the dedup memory in sessionStorage, so reloads within a session do not expose again. */
export class SessionDedupStore {
  private scheduled = false;

  constructor(private readonly deduplicator: ExposureDeduplicator) {}

  load(): void {
    try {
      const raw = globalThis.sessionStorage?.getItem(KEY);
      if (raw) this.deduplicator.restore(JSON.parse(raw) as unknown[]);
    } catch {
      // Storage blocked or corrupt: dedup still works for this page.
    }
  }

  /** Saves after the current task, once however many exposures it made. */
  save(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      try {
        globalThis.sessionStorage?.setItem(KEY, JSON.stringify(this.deduplicator.snapshot()));
      } catch {
        // Quota or privacy mode: nothing to do.
      }
    }, 0);
  }
}
