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

/**
 * The request body: the records, token added where their endpoint wants it, as one JSON array (for a
 * transport that reads the string; the exporter sends {@link requestBytes}).
 */
export function requestBody(q: RecordQueue, batch: readonly QueuedRecord[], token: string): string {
  return (writeBody(q, batch, token, (r) => Buffer.byteLength(r.json)) as Buffer).toString();
}

/**
 * {@link requestBody} as UTF-8 bytes, written record by record into one
 * buffer: no body string is built, nor encoded again by the transport. Equal,
 * byte for byte, to `Buffer.from(requestBody(q, batch, token))`; undefined
 * when a record's `bytes` is not its UTF-8 length (the caller then encodes the
 * string).
 */
export function requestBytes(q: RecordQueue, batch: readonly QueuedRecord[], token: string): Buffer | undefined {
  return writeBody(q, batch, token, (r) => r.bytes);
}

/** The body, each record taken as `size(record)` UTF-8 bytes; undefined when one is not. */
function writeBody(
  q: RecordQueue,
  batch: readonly QueuedRecord[],
  token: string,
  size: (r: QueuedRecord) => number,
): Buffer | undefined {
  const tokenJson = JSON.stringify(token);
  // The token's JSON may hold non-ASCII characters: its pieces are encoded once.
  const eventPiece = Buffer.from(`,"token":${tokenJson}}}`);
  const emptyEventPiece = Buffer.from(`"token":${tokenJson}}}`);
  const profilePiece = Buffer.from(`{"$token":${tokenJson},`);
  const profileOnly = Buffer.from(`{"$token":${tokenJson}}`);
  // Room for each record and its token (at most the longer piece); imports carry no token.
  const piece = q.endpoint === 'import' ? 0 : profilePiece.length;
  const sizes = batch.map(size);
  let total = 2 + Math.max(0, batch.length - 1); // brackets and commas
  for (const bytes of sizes) total += bytes + piece;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  out[at++] = 0x5b; // [
  for (let i = 0; i < batch.length; i++) {
    const { json } = batch[i] as QueuedRecord;
    const bytes = sizes[i] as number;
    // A record as long in bytes as in characters is ASCII: copied as Latin-1, nothing to transcode.
    const write = (offset: number) => out.write(json, offset, bytes === json.length ? 'latin1' : 'utf8') === bytes;
    if (i > 0) out[at++] = 0x2c; // ,
    if (at + bytes + piece > total - 1) return undefined;
    if (q.endpoint === 'import') {
      if (!write(at)) return undefined;
      at += bytes;
    } else if (q.recordType === 'profile') {
      // Ahead of the record's own keys, as `{ $token, ...update }` would be.
      if (json === '{}') {
        at += profileOnly.copy(out, at);
        continue;
      }
      // The record goes one byte before its place, so its `{` falls where the piece's `,` goes.
      const start = at + profilePiece.length - 1;
      if (!write(start)) return undefined;
      profilePiece.copy(out, at);
      at = start + bytes;
    } else {
      // `{"event":…,"properties":{…}}`: the token is the last property, as `{ ...properties, token }` would be.
      if (bytes < 4 || !write(at)) return undefined;
      at += bytes - 2;
      const empty = out[at - 1] === 0x7b; // `"properties":{}`
      at += (empty ? emptyEventPiece : eventPiece).copy(out, at);
    }
  }
  out[at++] = 0x5d; // ]
  return at === total ? out : out.subarray(0, at);
}
