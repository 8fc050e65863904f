import type { SpanContext } from '@opentelemetry/api';
import type { MixpanelEvent } from '@optimizely-mixpanel/core';
import type { QueuedRecord, RecordQueue } from './record-queue.js';

/** A record in a batch: its JSON (token included) is known. */
export interface SerializedRecord {
  json: string;
  link: SpanContext | undefined;
}

/** Limits of one request. */
export interface BatchLimits {
  maxBatchSize: number;
  maxBatchBytes: number;
}

/** A batch taken from the head of a queue, and the records that could not join any batch. */
export interface TakenBatch {
  records: SerializedRecord[];
  /** Records larger than a request may be. */
  tooLarge: number;
  /** Records JSON cannot encode (a BigInt or a cycle, e.g. added by a hook). */
  unserializable: number;
}

/** The record in its endpoint's wire shape, with the token where that endpoint wants it. */
export function serializeRecord(q: RecordQueue, value: object, token: string): string {
  if (q.recordType === 'profile') return JSON.stringify({ $token: token, ...value });
  if (q.endpoint === 'import') return JSON.stringify(value);
  const event = value as MixpanelEvent;
  return JSON.stringify({ event: event.event, properties: { ...event.properties, token } });
}

/** Serializes records from the head of the queue into one request's worth, and removes them from it. */
export function takeBatch(q: RecordQueue, limits: BatchLimits, token: string): TakenBatch {
  const records: SerializedRecord[] = [];
  let bytes = 2; // the array's brackets
  let taken = 0;
  let tooLarge = 0;
  let unserializable = 0;
  while (taken < q.items.length && records.length < limits.maxBatchSize) {
    const item = q.items[taken] as QueuedRecord;
    let json: string;
    try {
      json = serializeRecord(q, item.value, token);
    } catch {
      // Must not wedge the queue behind it.
      unserializable++;
      taken++;
      continue;
    }
    const size = Buffer.byteLength(json) + 1;
    if (size + 2 > limits.maxBatchBytes) {
      tooLarge++;
      taken++;
      continue;
    }
    if (records.length > 0 && bytes + size > limits.maxBatchBytes) break;
    q.meanBytes += (size - q.meanBytes) / 16;
    records.push({ json, link: item.link });
    bytes += size;
    taken++;
  }
  q.items.splice(0, taken);
  return { records, tooLarge, unserializable };
}

/** The request body: the records as one JSON array. */
export function requestBody(batch: readonly SerializedRecord[]): string {
  return `[${batch.map((r) => r.json).join(',')}]`;
}
