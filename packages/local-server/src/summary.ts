import type { Store } from './store.js';

/** What {@link summarize} returns: counts, exposures per flag and variation, profile properties. */
export interface Summary {
  events: number;
  duplicatesDropped: number;
  profiles: number;
  requests: number;
  /** flag → variation → exposure events. */
  exposures: Record<string, Record<string, number>>;
  /** property → value → profiles holding it. */
  profileProperties: Record<string, Record<string, number>>;
}

const EXPOSURE_EVENTS = new Set(['Experiment Viewed', '$experiment_started']);

function count(table: Record<string, Record<string, number>>, row: string, column: string): void {
  const counts = table[row] ?? {};
  counts[column] = (counts[column] ?? 0) + 1;
  table[row] = counts;
}

/** Exposures per flag and variation, and profile properties, from what a server holds. */
export function summarize(server: { readonly store: Store }): Summary {
  const { store } = server;
  const exposures: Summary['exposures'] = {};
  for (const { event, properties } of store.events) {
    if (!EXPOSURE_EVENTS.has(event)) continue;
    const flag = String(properties.flag_key ?? properties['Experiment name'] ?? '?');
    const variation = String(properties.variation_key ?? properties['Variant name'] ?? '?');
    count(exposures, flag, variation);
  }
  const profileProperties: Summary['profileProperties'] = {};
  for (const profile of store.profiles.values()) {
    for (const [name, value] of Object.entries(profile)) count(profileProperties, name, String(value));
  }
  return {
    events: store.events.length,
    duplicatesDropped: store.duplicates,
    profiles: store.profiles.size,
    requests: store.requests.length,
    exposures,
    profileProperties,
  };
}
