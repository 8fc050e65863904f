import type { SpanContext } from '@opentelemetry/api';
import type { Endpoint } from './transport.js';

/** What a queue holds: `/track` or `/import` events, or `/engage` profile updates. */
export type RecordType = 'event' | 'profile';

/** A record as queued: serialized only when its batch is built, off the decide() path. */
export interface QueuedRecord {
  value: object;
  link: SpanContext | undefined;
}

/** Limits shared by every queue of an exporter. */
export interface QueueBounds {
  maxQueueSize: number;
  maxQueueBytes: number;
}

/** One queue per endpoint: events (`/track` or `/import`) and profile updates (`/engage`). */
export class RecordQueue {
  items: QueuedRecord[] = [];
  /** Running mean of serialized record sizes, for the byte bound of the queue. */
  meanBytes = 512;
  /** Records ever enqueued / settled (delivered or dropped): flush() waits for settled to catch up. */
  enqueued = 0;
  settled = 0;
  /** A drain loop is running: one request in flight per endpoint. */
  sending = false;

  constructor(
    readonly endpoint: Endpoint,
    readonly recordType: RecordType,
  ) {}

  get estimatedBytes(): number {
    return this.items.length * this.meanBytes;
  }

  /** Records waiting or in flight. */
  get pending(): number {
    return this.enqueued - this.settled;
  }
}

/** True when `q` may take one more record without the queues together passing their bounds. */
export function hasRoom(queues: readonly RecordQueue[], q: RecordQueue, bounds: QueueBounds): boolean {
  let count = 0;
  let bytes = 0;
  for (const queue of queues) {
    count += queue.items.length;
    bytes += queue.estimatedBytes;
  }
  return count < bounds.maxQueueSize && bytes + q.meanBytes <= bounds.maxQueueBytes;
}
