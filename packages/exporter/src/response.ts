import { parseRetryAfter } from './retry.js';
import type { Endpoint, TransportResponse } from './transport.js';
import type { DropReason } from './types.js';

/** What to do with a batch after one request. */
export type Outcome =
  /** Delivered; `rejected` of its records were refused one by one (`/import` `strict=1`). */
  | { kind: 'ok'; rejected: number }
  /** Final failure: every record of the batch is dropped with `reason`. */
  | { kind: 'drop'; reason: DropReason }
  /** Too large for Mixpanel (413): send it again in halves. */
  | { kind: 'split' }
  /** Transient: send it again after the backoff, or after `retryAfterMs` when the server asked. */
  | { kind: 'retry'; retryAfterMs?: number | undefined };

/**
 * Classifies Mixpanel's answer to a request of `records` records. Only
 * Mixpanel-shaped refusals are final; what is not Mixpanel's answer is
 * transient. Pure: no I/O, no clock but `now` (for a `Retry-After` date).
 */
export function classifyResponse(
  endpoint: Endpoint,
  records: number,
  response: Pick<TransportResponse, 'status' | 'body' | 'retryAfter'>,
  now: number = Date.now(),
): Outcome {
  const { status, body } = response;
  if (status >= 200 && status < 300) {
    const text = body.trim();
    const json = parseJson(text);
    if (endpoint === 'import') {
      const imported = json && (typeof json.num_records_imported === 'number' || json.status === 'OK');
      return imported ? { kind: 'ok', rejected: 0 } : { kind: 'retry', retryAfterMs: undefined };
    }
    // /track and /engage answer `1` or `{"status":1}`, and `0` or `{"status":0}` when they refuse a batch.
    if (text === '1' || json?.status === 1) return { kind: 'ok', rejected: 0 };
    if (text === '0' || json?.status === 0) return { kind: 'drop', reason: 'rejected' };
    // Not Mixpanel's answer (an empty or HTML 200 from a proxy or captive portal): resending is
    // safe, the deterministic $insert_id keeps an event from counting twice.
    return { kind: 'retry', retryAfterMs: undefined };
  }
  if (status >= 300 && status < 400) return { kind: 'drop', reason: 'redirected' };
  if (status === 413) return { kind: 'split' };
  if (status === 408 || status === 429 || status >= 500 || status === 0) {
    return { kind: 'retry', retryAfterMs: parseRetryAfter(response.retryAfter, now) };
  }
  if (status === 401 || status === 403) return { kind: 'drop', reason: 'unauthorized' };
  if (status === 400 && endpoint === 'import') {
    // strict=1: the valid records were imported, the listed ones were not.
    const failed = parseJson(body)?.failed_records;
    if (Array.isArray(failed)) return { kind: 'ok', rejected: Math.min(records, failed.length) };
  }
  return { kind: 'drop', reason: 'rejected' };
}

/**
 * What a failed response said, for span statuses and logs: Mixpanel's own
 * error message when it gave one, else only the shape of the body, never the
 * body itself (a proxy or a server may echo the records, user ids included).
 * Redact and cut the result before use.
 */
export function describeResponse(body: string): string {
  const text = body.trim();
  const json = parseJson(text);
  if (json) {
    const parts: string[] = [];
    if (typeof json.error === 'string' && json.error) parts.push(json.error);
    if (Array.isArray(json.failed_records)) parts.push(`${json.failed_records.length} record(s) failed validation`);
    if (parts.length > 0) return parts.join('; ');
    if (json.status === 0) return 'Mixpanel refused the batch';
    return "a JSON body that is not Mixpanel's answer";
  }
  if (text === '0') return 'Mixpanel refused the batch';
  if (text === '') return 'an empty body';
  const html = /^<(!doctype|html)/i.test(text);
  return `${html ? 'an HTML' : 'a'} body that is not Mixpanel's answer (${Buffer.byteLength(text)} bytes)`;
}

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}
