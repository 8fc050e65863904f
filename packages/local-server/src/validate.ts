/** Rules Mixpanel applies to ingested records, as far as they are documented. */

const INSERT_ID = /^[A-Za-z0-9-]{1,36}$/;
// Kept apart from @optimizely-mixpanel/core on purpose: this server is the oracle core is tested against.
const PLACEHOLDER_IDS = new Set([
  '',
  '0',
  '-1',
  'anon',
  'anonymous',
  'nil',
  '<nil>',
  'none',
  'null',
  'undefined',
  'unknown',
  'true',
  'false',
  '[]',
  '{}',
  'lmy47d',
  '00000000-0000-0000-0000-000000000000',
]);
export const MAX_RECORDS_PER_REQUEST = 2000;
const FIVE_DAYS_MS = 5 * 24 * 3600 * 1000;
const ONE_HOUR_MS = 3600 * 1000;
const YEAR_1971_MS = Date.UTC(1971, 0, 1);

/** A record as accepted: the event with `time` in ms. */
export interface AcceptedEvent {
  event: string;
  properties: Record<string, unknown> & { distinct_id?: string; time: number; $insert_id?: string };
}

export interface RecordFailure {
  index: number;
  insert_id?: string | undefined;
  field: string;
  message: string;
}

/** Mixpanel's `time` may be seconds or milliseconds. */
function timeToMs(time: unknown): number | undefined {
  if (typeof time !== 'number' || !Number.isFinite(time)) return undefined;
  return time < 1e11 ? Math.round(time * 1000) : Math.round(time);
}

export function isPlaceholderId(id: unknown): boolean {
  return typeof id !== 'string' || PLACEHOLDER_IDS.has(id.trim().toLowerCase());
}

/**
 * Checks one event for `/track` (`strictIds: false`) or `/import`
 * (`strictIds: true`: `time`, `distinct_id` and `$insert_id` required).
 */
export function validateEvent(
  record: unknown,
  index: number,
  options: { strictIds: boolean; now: number },
): { event: AcceptedEvent } | { failure: RecordFailure } {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { failure: { index, field: 'record', message: 'record is not an object' } };
  }
  const { event, properties } = record as { event?: unknown; properties?: unknown };
  const props = (properties && typeof properties === 'object' ? properties : {}) as Record<string, unknown>;
  const insertId = props.$insert_id;
  const fail = (field: string, message: string) => ({
    failure: { index, insert_id: typeof insertId === 'string' ? insertId : undefined, field, message },
  });
  if (typeof event !== 'string' || event.length === 0 || event.length > 255) {
    return fail('event', "'event' must be a non-empty string of at most 255 characters");
  }
  if (insertId !== undefined && (typeof insertId !== 'string' || !INSERT_ID.test(insertId))) {
    return fail('properties.$insert_id', "'$insert_id' must be at most 36 characters of [A-Za-z0-9-]");
  }
  let time = timeToMs(props.time);
  if (props.time !== undefined && time === undefined) return fail('properties.time', "'time' must be a number");
  if (options.strictIds) {
    if (time === undefined) return fail('properties.time', "'properties.time' is invalid: must be specified");
    if (insertId === undefined) return fail('properties.$insert_id', "'$insert_id' must be specified");
    if (props.distinct_id === undefined) return fail('properties.distinct_id', "'distinct_id' must be specified");
    if (time < YEAR_1971_MS) return fail('properties.time', "'properties.time' is before 1971");
    if (time > options.now + ONE_HOUR_MS) return fail('properties.time', "'properties.time' is in the future");
  } else if (time !== undefined && time < options.now - FIVE_DAYS_MS) {
    return fail('properties.time', 'event is older than 5 days: use /import');
  }
  if (props.distinct_id !== undefined && isPlaceholderId(String(props.distinct_id))) {
    return fail(
      'properties.distinct_id',
      `'distinct_id' is an invalid placeholder: ${JSON.stringify(props.distinct_id)}`,
    );
  }
  if (Object.keys(props).length > 255) return fail('properties', 'more than 255 properties');
  time ??= options.now;
  const accepted: AcceptedEvent = { event, properties: { ...props, time } };
  return { event: accepted };
}
