import { gunzipSync } from 'node:zlib';

/** A client error while reading a request: the status and Mixpanel-style message to answer with. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Mixpanel's documented safe request size (a 413 quotes this figure). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Decodes the records of an ingestion request, whatever form the client chose:
 * `data=` in the query string or the body (base64 raw or URL-encoded, or JSON),
 * a JSON array or object, NDJSON, gzip or not, any Content-Type (sendBeacon
 * sends `text/plain`).
 */
export function decodeRecords(
  rawQuery: string,
  body: Buffer,
  headers: { 'content-encoding'?: string | undefined },
): unknown[] {
  let payload = body;
  if ((headers['content-encoding'] ?? '').toLowerCase().includes('gzip')) {
    try {
      payload = gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES + 1 });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
      throw new RequestError(400, 'invalid gzip body');
    }
  }
  if (payload.length > MAX_BODY_BYTES) throw tooLarge();
  const text = payload.toString('utf8').trim();

  if (text.length === 0) {
    const data = rawParam(rawQuery, 'data');
    if (data === undefined) throw new RequestError(400, 'no data');
    return asArray(decodeDataParam(data));
  }
  if (text.startsWith('[') || text.startsWith('{')) return parseJsonOrNdjson(text);
  const data = rawParam(text, 'data');
  if (data === undefined) throw new RequestError(400, 'no data in body');
  return asArray(decodeDataParam(data));
}

function tooLarge(): RequestError {
  return new RequestError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
}

/**
 * Reads a form parameter without turning `+` into a space: the `mixpanel`
 * Node client sends base64 unencoded, so `+` is data, not an encoded blank.
 */
function rawParam(form: string, name: string): string | undefined {
  for (const pair of form.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return eq < 0 ? '' : pair.slice(eq + 1);
  }
  return undefined;
}

function decodeDataParam(raw: string): unknown {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new RequestError(400, 'data is not valid URL encoding');
  }
  const trimmed = value.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return parseJson(trimmed);
  // Both alphabets: standard base64 and the URL-safe one some clients use.
  const json = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  return parseJson(json);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestError(400, 'data, missing or empty');
  }
}

function parseJsonOrNdjson(text: string): unknown[] {
  try {
    return asArray(JSON.parse(text));
  } catch {
    const lines = text.split('\n').filter((line) => line.trim().length > 0);
    return lines.map((line) => parseJson(line));
  }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}
