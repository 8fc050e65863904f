import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Counter, type Meter, metrics } from '@opentelemetry/api';
import { PayloadError, parseCohortRequest, type WebhookReply } from './protocol.js';
import { ATTR_MIXPANEL_COHORT_ACTION, METRIC_COHORT_REQUESTS } from './semconv.js';
import { type ApplyResult, type CohortRequest, type CohortStore, RetryableStoreError } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/** Default cap on a request body: 1000 members with exported properties stay far below it. */
export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Options of {@link createCohortReceiver}. */
export interface CohortReceiverOptions {
  /** Where membership is written. */
  store: CohortStore;
  /** Basic auth credentials Mixpanel must send, as `user:password` or an object. Off when absent. */
  auth?: string | { username: string; password: string };
  /** Larger bodies get 413 (default 5 MiB). */
  maxBodyBytes?: number;
  /** Meter for `mixpanel.cohort.webhook.requests` (default: the global meter provider's). */
  meter?: Meter;
  /** Called after each request with what happened (for logs). */
  onRequest?: (event: ReceiverEvent) => void;
}

/** What one webhook request did. */
export interface ReceiverEvent {
  status: number;
  action: string | undefined;
  cohortId?: string;
  result?: ApplyResult;
  error?: string;
}

/**
 * A `node:http` request handler. `body` is for frameworks that already parsed
 * the body (Fastify's `request.body`); a function there (Express's `next`) is
 * ignored, and Express's `req.body` is used when a body parser read the stream.
 */
export type CohortRequestHandler = (req: IncomingMessage, res: ServerResponse, body?: unknown) => void;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly action?: string,
  ) {
    super(message);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function parseAuth(auth: CohortReceiverOptions['auth']): Buffer | undefined {
  if (auth === undefined) return undefined;
  const pair = typeof auth === 'string' ? auth : `${auth.username}:${auth.password}`;
  if (!pair.includes(':') || pair.startsWith(':')) throw new TypeError('auth must be "user:password"');
  return digest(pair);
}

/** Reads the body up to `limit` bytes; a larger one is refused without reading it all. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, `the body exceeds ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume(); // drain without keeping it
        reject(new HttpError(413, `the body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/**
 * Creates the receiver of Mixpanel's cohort Custom Webhook as a `node:http`
 * request handler (mount it in `http.createServer`, Express or Fastify).
 * Answers in Mixpanel's JSON shape: 200 when applied, staged or already
 * applied; 400 for malformed JSON or a wrong shape, 401 for bad credentials,
 * 413 for an oversized body (Mixpanel pauses the sync on these); 503 when the
 * store is unavailable or a sync lost pages (Mixpanel retries). Nothing is
 * applied unless the answer is 200.
 * @throws TypeError when `auth` is not `user:password`.
 */
export function createCohortReceiver(options: CohortReceiverOptions): CohortRequestHandler {
  const expected = parseAuth(options.auth);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const meter = options.meter ?? metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
  const requests: Counter = meter.createCounter(METRIC_COHORT_REQUESTS, {
    description: 'Cohort webhook requests by action and HTTP status',
  });

  function authorized(req: IncomingMessage): boolean {
    if (!expected) return true;
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const given = match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : '';
    // Digests have one length, so the comparison time says nothing about the credentials.
    return timingSafeEqual(digest(given), expected) && match !== null;
  }

  async function handle(req: IncomingMessage, parsed: unknown, hasParsed: boolean): Promise<ReceiverEvent> {
    if (req.method !== 'POST') throw new HttpError(405, 'only POST is accepted');
    if (!authorized(req)) throw new HttpError(401, 'missing or wrong credentials');
    let body = parsed;
    if (!hasParsed || Buffer.isBuffer(parsed) || typeof parsed === 'string') {
      const raw = hasParsed ? Buffer.from(parsed as Buffer | string) : await readBody(req, limit);
      if (raw.length > limit) throw new HttpError(413, `the body exceeds ${limit} bytes`);
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (error) {
        throw new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`);
      }
    }
    let request: CohortRequest;
    try {
      request = parseCohortRequest(body);
    } catch (error) {
      if (error instanceof PayloadError) throw new HttpError(400, error.message, error.action);
      throw error;
    }
    try {
      const result = await options.store.apply(request);
      return { status: 200, action: request.action, cohortId: request.cohortId, result };
    } catch (error) {
      const message =
        error instanceof RetryableStoreError ? error.message : `the store is unavailable: ${(error as Error).message}`;
      throw new HttpError(503, message, request.action);
    }
  }

  return (req, res, body) => {
    // Express passes `next` third; a body parser that ran before leaves the stream read and `req.body` set.
    let parsed = typeof body === 'function' ? undefined : body;
    if (parsed === undefined && req.readableEnded) parsed = (req as { body?: unknown }).body;
    handle(req, parsed, parsed !== undefined)
      .catch((error: unknown): ReceiverEvent => {
        if (error instanceof HttpError) return { status: error.status, action: error.action, error: error.message };
        return { status: 500, action: undefined, error: `internal error: ${String(error)}` };
      })
      .then((event) => {
        const reply: WebhookReply = { action: event.action, status: event.status === 200 ? 'success' : 'failure' };
        if (event.status !== 200) reply.error = { message: event.error ?? 'failed', code: event.status };
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (event.status === 401) headers['www-authenticate'] = 'Basic realm="mixpanel-cohorts", charset="UTF-8"';
        // An unread body would be parsed as the next request: close the connection instead.
        if (event.status === 413 || !req.complete) headers.connection = 'close';
        if (!res.headersSent) res.writeHead(event.status, headers).end(JSON.stringify(reply));
        requests.add(1, {
          [ATTR_MIXPANEL_COHORT_ACTION]: event.action ?? 'unknown',
          'http.response.status_code': event.status,
        });
        try {
          options.onRequest?.(event);
        } catch {
          // a logging callback never changes the reply
        }
      });
  };
}
