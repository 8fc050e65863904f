import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BODY_BYTES } from './decode.js';

/** Reads a request body, or `undefined` past the size limit (gzip may hide a larger one). */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk as Buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

/** Answers with a complete body and its length. */
export function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers with a value as JSON. */
export function replyJson(res: ServerResponse, value: unknown, status = 200): void {
  reply(res, status, 'application/json', JSON.stringify(value));
}
