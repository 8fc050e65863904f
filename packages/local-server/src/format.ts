import type { Store, StoredEvent, StoredProfileUpdate } from './store.js';
import { summarize } from './summary.js';

const HIDDEN = new Set(['token', 'mp_lib', '$lib_version', 'time', 'distinct_id', '$insert_id']);

/** One line for an event as it arrives (token never shown). */
export function formatEvent(e: StoredEvent): string {
  const p = e.properties;
  const rest = Object.entries(p)
    .filter(([name]) => !HIDDEN.has(name))
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(' ');
  return `${new Date(p.time).toISOString()} ${e.endpoint.padEnd(7)} ${JSON.stringify(e.event)} distinct_id=${JSON.stringify(p.distinct_id ?? null)} ${rest}`;
}

/** One line for a profile update as it arrives. */
export function formatProfileUpdate(u: StoredProfileUpdate): string {
  return `${new Date(u.receivedAt).toISOString()} /engage  ${u.operation} distinct_id=${JSON.stringify(u.distinctId)} ${JSON.stringify(u.value)}`;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** What the server holds, as readable tables: exposures per flag and variation, profile properties. */
export function formatTable(server: { readonly store: Store }): string {
  const s = summarize(server);
  const exposureRows = Object.entries(s.exposures).flatMap(([flag, variations]) =>
    Object.entries(variations).map(([variation, count]) => [flag, variation, String(count)]),
  );
  const profileRows = Object.entries(s.profileProperties).flatMap(([name, values]) =>
    Object.entries(values).map(([value, count]) => [name, value, String(count)]),
  );
  return [
    `events: ${s.events} (duplicates dropped: ${s.duplicatesDropped}), profiles: ${s.profiles}, requests: ${s.requests}`,
    '',
    'Exposure events by flag and variation',
    table(['flag', 'variation', 'events'], exposureRows),
    '',
    'Profile properties',
    table(['property', 'value', 'profiles'], profileRows),
  ].join('\n');
}
