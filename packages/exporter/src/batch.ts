import type { QueuedRecord, RecordQueue } from './record-queue.js';

/** Limits of one request. */
export interface BatchLimits {
  maxBatchSize: number;
  maxBatchBytes: number;
}

/** A batch taken from the head of a queue, and the records too large for any request. */
export interface TakenBatch {
  records: QueuedRecord[];
  tooLarge: QueuedRecord[];
}

/** Bytes the token adds to a record, at most (`,"token":` or `"$token":,` plus the token's JSON). */
export function tokenOverhead(token: string): number {
  return Buffer.byteLength(JSON.stringify(token)) + 10;
}

/** Takes records from the head of the queue, up to one request's worth. */
export function takeBatch(q: RecordQueue, limits: BatchLimits, overhead: number): TakenBatch {
  const records: QueuedRecord[] = [];
  const tooLarge: QueuedRecord[] = [];
  let bytes = 2; // the array's brackets
  let taken = 0;
  while (taken < q.items.length && records.length < limits.maxBatchSize) {
    const item = q.items[taken] as QueuedRecord;
    const size = item.bytes + overhead + 1;
    if (size + 2 > limits.maxBatchBytes) {
      tooLarge.push(item);
      taken++;
      continue;
    }
    if (records.length > 0 && bytes + size > limits.maxBatchBytes) break;
    records.push(item);
    bytes += size;
    taken++;
  }
  q.items.splice(0, taken);
  return { records, tooLarge };
}

/** The request body: the records, token added where their endpoint wants it, as one JSON array. */
export function requestBody(q: RecordQueue, batch: readonly QueuedRecord[], token: string): string {
  const tokenJson = JSON.stringify(token);
  const parts = batch.map((r) => withToken(q, r.json, tokenJson));
  return `[${parts.join(',')}]`;
}

function withToken(q: RecordQueue, json: string, tokenJson: string): string {
  if (q.endpoint === 'import') return json;
  if (q.recordType === 'profile') {
    // Ahead of the record's own keys, as `{ $token, ...update }` would be.
    return json === '{}' ? `{"$token":${tokenJson}}` : `{"$token":${tokenJson},${json.slice(1)}`;
  }
  // `{"event":…,"properties":{…}}`: the token is the last property, as `{ ...properties, token }` would be.
  const empty = json.endsWith(',"properties":{}}');
  return `${json.slice(0, -2)}${empty ? '' : ','}"token":${tokenJson}}}`;
}
