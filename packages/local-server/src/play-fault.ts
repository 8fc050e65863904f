import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FaultRule, faultBody } from './faults.js';
import { reply } from './http.js';
import type { RequestLogEntry } from './store.js';

/**
 * Plays a fault on an ingestion request and records it in the request log.
 * Returns `true` when the fault took the request over (no normal answer follows);
 * a delay returns `false` once it has elapsed.
 */
export async function playFault(
  rule: FaultRule,
  entry: RequestLogEntry,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const { fault } = rule;
  entry.fault =
    fault.kind === 'status'
      ? String(fault.status)
      : fault.kind === 'delay'
        ? `delay=${fault.ms}`
        : fault.kind === 'reply'
          ? fault.name
          : fault.kind;
  if (fault.kind === 'hang') {
    entry.status = 0;
    return true; // The socket stays open until the client gives up or the server stops.
  }
  if (fault.kind === 'reset') {
    entry.status = 0;
    req.socket.destroy();
    return true;
  }
  if (fault.kind === 'status') {
    entry.status = fault.status;
    if (fault.retryAfter !== undefined) res.setHeader('Retry-After', fault.retryAfter);
    reply(res, fault.status, 'application/json', faultBody(fault.status));
    return true;
  }
  if (fault.kind === 'reply') {
    entry.status = fault.status;
    for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
    reply(res, fault.status, fault.contentType, fault.body);
    return true;
  }
  await new Promise((resolve) => setTimeout(resolve, fault.ms));
  return false;
}
