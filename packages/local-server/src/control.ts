import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Fault } from './faults.js';
import { readBody, reply, replyJson } from './http.js';
import type { Store } from './store.js';
import { summarize } from './summary.js';

/** What the control API reads and drives. */
export interface ControlledServer {
  readonly store: Store;
  injectFault(fault: Fault | string, options?: { times?: number; path?: string }): void;
  clearFaults(): void;
  reset(): void;
}

/**
 * The `/_local/` API, for tools and tests in other processes: read back events,
 * profiles, requests and the summary as JSON; reset; queue and clear faults.
 */
export async function handleControl(
  path: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  server: ControlledServer,
): Promise<void> {
  await readBody(req);
  const { store } = server;
  if (path === '/_local/events') return replyJson(res, store.events);
  if (path === '/_local/profiles') return replyJson(res, Object.fromEntries(store.profiles));
  if (path === '/_local/requests') return replyJson(res, store.requests);
  if (path === '/_local/summary') return replyJson(res, summarize(server));
  if (path === '/_local/reset' && req.method === 'POST') {
    server.reset();
    return replyJson(res, { ok: true });
  }
  if (path === '/_local/faults' && req.method === 'POST') {
    try {
      const times = url.searchParams.get('times');
      const only = url.searchParams.get('path');
      server.injectFault(url.searchParams.get('fault') ?? '', {
        times: times === 'always' ? Number.POSITIVE_INFINITY : Number(times ?? 1),
        ...(only ? { path: only } : {}),
      });
    } catch (error) {
      return reply(res, 400, 'text/plain', (error as Error).message);
    }
    return replyJson(res, { ok: true });
  }
  if (path === '/_local/faults' && req.method === 'DELETE') {
    server.clearFaults();
    return replyJson(res, { ok: true });
  }
  reply(res, 404, 'text/plain', 'not found');
}
