import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Credentials, checkImportAuth } from './auth.js';
import { decodeRecords, MAX_BODY_BYTES, RequestError } from './decode.js';
import type { FaultRule } from './faults.js';
import { readBody, reply, replyJson } from './http.js';
import { playFault } from './play-fault.js';
import { type AcceptedRecord, acceptImport, acceptProfileUpdates, acceptTrack } from './records.js';
import type { RequestLogEntry, Store } from './store.js';
import { MAX_RECORDS_PER_REQUEST } from './validate.js';

export type Endpoint = '/track' | '/import' | '/engage';

/** What an ingestion request needs from the server. */
export interface IngestServer {
  readonly store: Store;
  readonly credentials: Credentials;
  readonly onRecord?: ((record: AcceptedRecord) => void) | undefined;
  now(): number;
  /** The next fault queued for this path, if any (consumed). */
  takeFault(path: string): FaultRule | undefined;
}

/**
 * One request to `/track`, `/import` or `/engage`: logged, faulted when a fault
 * is queued, decoded, limited, authenticated, ingested, and answered in the
 * shape Mixpanel uses for that endpoint (`verbose=1` included).
 */
export async function handleIngest(
  endpoint: Endpoint,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  server: IngestServer,
): Promise<void> {
  const body = await readBody(req);
  const now = server.now();
  const entry: RequestLogEntry = {
    method: req.method ?? 'GET',
    path: endpoint,
    status: 200,
    records: 0,
    accepted: 0,
    duplicates: 0,
    contentType: req.headers['content-type'],
    contentEncoding: req.headers['content-encoding'],
    receivedAt: now,
  };
  server.store.requests.push(entry);

  const rule = server.takeFault(endpoint);
  if (rule && (await playFault(rule, entry, req, res))) return;

  const verbose = url.searchParams.get('verbose') === '1';
  const ctx = { store: server.store, credentials: server.credentials, now: server.now(), onRecord: server.onRecord };
  try {
    if (body === undefined) throw new RequestError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
    const records = decodeRecords(url.search.slice(1), body, req.headers);
    entry.records = records.length;
    if (records.length > MAX_RECORDS_PER_REQUEST) {
      throw new RequestError(400, `too many records: at most ${MAX_RECORDS_PER_REQUEST} per request`);
    }
    if (endpoint === '/import') {
      checkImportAuth(req.headers.authorization, url.searchParams.get('project_id'), server.credentials);
      const result = acceptImport(records, entry, ctx, url.searchParams.get('strict') === '1');
      entry.status = result.failed.length > 0 ? 400 : 200;
      replyJson(
        res,
        result.failed.length > 0
          ? {
              code: 400,
              error: 'some data points in the request failed validation',
              failed_records: result.failed,
              num_records_imported: result.imported,
              status: 'Bad Request',
            }
          : { code: 200, num_records_imported: result.imported, status: 'OK' },
        entry.status,
      );
      return;
    }
    if (endpoint === '/engage') acceptProfileUpdates(records, entry, ctx);
    else acceptTrack(records, entry, ctx);
    entry.status = 200;
    if (verbose) replyJson(res, { status: 1, error: null });
    else reply(res, 200, 'text/plain', '1');
  } catch (error) {
    const status = error instanceof RequestError ? error.status : 400;
    const message = error instanceof Error ? error.message : String(error);
    entry.status = status;
    entry.error = message;
    if (endpoint === '/import') replyJson(res, { code: status, error: message, status: 'error' }, status);
    else if (verbose) replyJson(res, { status: 0, error: message }, status);
    else reply(res, status, 'text/plain', '0');
  }
}
