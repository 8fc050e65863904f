import type { SpanContext } from '@opentelemetry/api';
import type { MixpanelEvent } from '@optimizely-mixpanel/core';
import type { Endpoint } from './transport.js';

/** What a queue holds: `/track` or `/import` events, or `/engage` profile updates. */
export type RecordType = 'event' | 'profile';

/**
 * A record as queued. `json` is the record as given, without the token, so
 * it is measured as it enters (the byte bound holds) and is what a store for
 * later delivery can keep as is: `JSON.parse(json)` gives the record back,
 * `time` and `$insert_id` unchanged.
 */
export interface QueuedRecord {
  json: string;
  /** UTF-8 bytes of `json`. */
  bytes: number;
  link: SpanContext | undefined;
  /** Its number in its queue (1, 2, ...): flush() waits until every record up to a number has settled. */
  seq: number;
}

/** Why records leave without being delivered now, though they could be later. */
export type UndeliverableReason = 'queue_full' | 'shutdown' | 'retries_exhausted';

/**
 * The one way out for records the exporter cannot deliver now (queue full,
 * shut down, retries exhausted on transient errors): counted as dropped unless
 * something takes them for later.
 */
export type Undeliverable = (q: RecordQueue, records: readonly QueuedRecord[], reason: UndeliverableReason) => void;

/** Limits shared by every queue of an exporter. */
export interface QueueBounds {
  maxQueueSize: number;
  maxQueueBytes: number;
}

/** One queue per endpoint: events (`/track` or `/import`) and profile updates (`/engage`). */
export class RecordQueue {
  items: QueuedRecord[] = [];
  /** The batch being delivered, if any (e.g. to be copied to disk at exit). */
  inFlight: readonly QueuedRecord[] | undefined;
  /** Bytes of the records waiting or in flight. */
  bytes = 0;
  /** Records ever enqueued / settled (delivered or dropped): flush() waits for settled to catch up. */
  enqueued = 0;
  settled = 0;
  /** A drain loop is running: one request in flight per endpoint. */
  sending = false;
  /** A drain is queued to start after the current synchronous work. */
  drainQueued = false;

  constructor(
    readonly endpoint: Endpoint,
    readonly recordType: RecordType,
  ) {}

  /** Records waiting or in flight. */
  get pending(): number {
    return this.enqueued - this.settled;
  }

  /** Adds a record at the tail (the caller checked the bounds and counted it as enqueued). */
  push(record: QueuedRecord): void {
    this.items.push(record);
    this.bytes += record.bytes;
  }

  /** Forgets the bytes of records that left (delivered, dropped or handed over). */
  release(records: readonly QueuedRecord[]): void {
    for (const record of records) this.bytes -= record.bytes;
  }
}

/** The record as it was given: a plain value, `time` and `$insert_id` unchanged. */
export function recordValue(record: QueuedRecord): object {
  return JSON.parse(record.json) as object;
}

/**
 * Serializes a record for its queue, in the shape its endpoint takes but
 * without the token. Throws what `JSON.stringify` throws (a BigInt, a cycle)
 * and a TypeError for a record of the wrong shape.
 */
export function toQueuedRecord(q: RecordQueue, value: object, link: SpanContext | undefined): QueuedRecord {
  let json: string;
  if (q.endpoint === 'track') {
    const event = value as MixpanelEvent;
    // The token goes into `properties` when the batch is built: they must serialize as an object.
    json = JSON.stringify({ event: event.event, properties: event.properties });
    if (!json.endsWith('}}')) throw new TypeError('event properties must be an object');
  } else {
    json = JSON.stringify(value);
    if (typeof json !== 'string' || !json.startsWith('{')) throw new TypeError('a record must be an object');
  }
  return { json, bytes: Buffer.byteLength(json), link, seq: q.enqueued };
}

/** True when the queues may take `record` without the queues together passing their bounds. */
export function hasRoom(queues: readonly RecordQueue[], record: QueuedRecord, bounds: QueueBounds): boolean {
  let count = 0;
  let bytes = 0;
  for (const queue of queues) {
    count += queue.items.length;
    bytes += queue.bytes;
  }
  return count < bounds.maxQueueSize && bytes + record.bytes <= bounds.maxQueueBytes;
}
