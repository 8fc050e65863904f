import { type Credentials, checkRecordToken } from './auth.js';
import { RequestError } from './decode.js';
import type { RequestLogEntry, Store, StoredEvent, StoredProfileUpdate } from './store.js';
import { type RecordFailure, validateEvent } from './validate.js';

/** Something the server accepted, as it arrives. */
export type AcceptedRecord = { type: 'event'; event: StoredEvent } | { type: 'profile'; update: StoredProfileUpdate };

/** What the three ingestion paths need: where records go, what is accepted, who hears of them. */
export interface IngestContext {
  readonly store: Store;
  readonly credentials: Credentials;
  readonly now: number;
  readonly onRecord?: ((record: AcceptedRecord) => void) | undefined;
}

/** `/track`: every record valid and carrying the token, or the whole batch refused. */
export function acceptTrack(records: unknown[], entry: RequestLogEntry, ctx: IngestContext): void {
  const accepted: StoredEvent[] = [];
  for (const [index, record] of records.entries()) {
    const result = validateEvent(record, index, { strictIds: false, now: ctx.now });
    if ('failure' in result) throw new RequestError(400, `record ${index}: ${result.failure.message}`);
    checkRecordToken(result.event.properties.token, ctx.credentials);
    accepted.push({ ...result.event, endpoint: '/track', receivedAt: ctx.now });
  }
  for (const event of accepted) keep(event, entry, ctx);
}

/**
 * `/import`: each valid record is kept; invalid ones are reported with `strict`
 * and dropped silently without it, as Mixpanel does.
 */
export function acceptImport(
  records: unknown[],
  entry: RequestLogEntry,
  ctx: IngestContext,
  strict: boolean,
): { imported: number; failed: RecordFailure[] } {
  const failed: RecordFailure[] = [];
  let imported = 0;
  for (const [index, record] of records.entries()) {
    const result = validateEvent(record, index, { strictIds: true, now: ctx.now });
    if ('failure' in result) {
      failed.push(result.failure);
      continue;
    }
    imported++;
    keep({ ...result.event, endpoint: '/import', receivedAt: ctx.now }, entry, ctx);
  }
  return { imported, failed: strict ? failed : [] };
}

/** `/engage`: every update carries the token; each is applied in order. */
export function acceptProfileUpdates(records: unknown[], entry: RequestLogEntry, ctx: IngestContext): void {
  for (const [index, record] of records.entries()) {
    if (record === null || typeof record !== 'object') throw new RequestError(400, `record ${index}: not an object`);
    checkRecordToken((record as Record<string, unknown>).$token, ctx.credentials);
  }
  for (const record of records as Record<string, unknown>[]) {
    const error = ctx.store.applyProfileUpdate(record, ctx.now);
    if (error) throw new RequestError(400, error);
    entry.accepted++;
    const update = ctx.store.profileUpdates[ctx.store.profileUpdates.length - 1] as StoredProfileUpdate;
    ctx.onRecord?.({ type: 'profile', update });
  }
}

function keep(event: StoredEvent, entry: RequestLogEntry, ctx: IngestContext): void {
  if (ctx.store.addEvent(event)) {
    entry.accepted++;
    ctx.onRecord?.({ type: 'event', event });
  } else {
    entry.duplicates++;
  }
}
