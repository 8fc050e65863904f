import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CohortReceiverOptions, createCohortReceiver } from '../src/index.js';

/** The test datafile: `premium_banner`'s rule targets the segment `mixpanel_power_users`. */
export const COHORTS_DATAFILE_PATH = new URL('../../../test/fixtures/datafile-cohorts.json', import.meta.url);

export interface Member {
  mixpanel_distinct_id: string;
  email?: string;
}

/** A webhook body as Mixpanel sends it. */
export function webhook(
  action: 'members' | 'add_members' | 'remove_members',
  ids: string[],
  page: { session?: string; page?: number; total?: number; cohortId?: number | string; name?: string } = {},
) {
  return {
    action,
    parameters: {
      mixpanel_project_id: '3141592',
      mixpanel_cohort_id: page.cohortId ?? 1001,
      mixpanel_cohort_name: page.name ?? 'Power Users',
      mixpanel_cohort_description: 'Users with 10+ sessions this week',
      mixpanel_session_id: page.session ?? 'session-1',
      page_info: { total_pages: page.total ?? 1, page_count: page.page ?? 1 },
      members: ids.map((id) => ({ mixpanel_distinct_id: id, email: `${id}@example.com`, first_name: 'Ada' })),
    },
  };
}

export interface Reply {
  status: number;
  body: { action?: string; status?: string; error?: { message: string; code: number } };
}

/** POSTs to the receiver as Mixpanel does (JSON, optional Basic auth). */
export async function post(url: string, body: unknown, auth?: string): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** The receiver on a `node:http` server on 127.0.0.1. */
export async function startReceiver(
  options: CohortReceiverOptions,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const handler = createCohortReceiver(options);
  const server = createServer((req, res) => handler(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}

/** Resolves when `condition` holds, polling; rejects after `timeoutMs` with `what`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
