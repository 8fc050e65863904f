import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCohortReceiver, FileCohortStore } from '../src/index.js';
import { post, webhook } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-frameworks-'));
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(server: Server): Promise<string> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  cleanup.push(async () => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('mounted in a framework', () => {
  it('Express: as a route, before or after express.json()', async () => {
    const store = new FileCohortStore(join(dir, 'express.json'));
    const receiver = createCohortReceiver({ store, auth: 'mp:pw' });
    const app = express();
    app.post('/mixpanel/cohorts', receiver);
    app.use('/parsed', express.json({ limit: '5mb' }));
    app.post('/parsed/cohorts', receiver);
    const base = await listen(app.listen(0, '127.0.0.1'));
    expect(await post(`${base}/mixpanel/cohorts`, webhook('members', ['a', 'b'], { session: 'e1' }), 'mp:pw')).toEqual({
      status: 200,
      body: { action: 'members', status: 'success' },
    });
    expect((await post(`${base}/parsed/cohorts`, webhook('add_members', ['c']), 'mp:pw')).status).toBe(200);
    expect((await post(`${base}/parsed/cohorts`, webhook('add_members', ['d']), 'mp:nope')).status).toBe(401);
    expect((await post(`${base}/mixpanel/cohorts`, { action: 'members' }, 'mp:pw')).status).toBe(400);
    expect((await store.members('1001')).sort()).toEqual(['a', 'b', 'c']);
  });

  it('Fastify: in a plugin that leaves the body to the receiver', async () => {
    const store = new FileCohortStore(join(dir, 'fastify.json'));
    const receiver = createCohortReceiver({ store, auth: 'mp:pw' });
    const app = Fastify();
    await app.register(async (scope) => {
      // The receiver reads and bounds the body itself, and answers in Mixpanel's shape.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
      scope.post('/mixpanel/cohorts', (request, reply) => {
        reply.hijack();
        receiver(request.raw, reply.raw);
      });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    expect(await post(`${base}/mixpanel/cohorts`, webhook('members', ['a', 'b'], { session: 'f1' }), 'mp:pw')).toEqual({
      status: 200,
      body: { action: 'members', status: 'success' },
    });
    const bad = await post(`${base}/mixpanel/cohorts`, '{"action":', 'mp:pw');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/not valid JSON/);
    expect((await post(`${base}/mixpanel/cohorts`, webhook('add_members', ['c']), 'mp:nope')).status).toBe(401);
    expect((await store.members('1001')).sort()).toEqual(['a', 'b']);
  });
});
