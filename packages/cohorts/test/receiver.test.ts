import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../../test/support/redis.js';
import { type CohortStore, FileCohortStore, RedisCohortStore } from '../src/index.js';
import { post, startReceiver, webhook } from './helpers.js';

const AUTH = 'mixpanel:s3cret-Passw0rd';
let redis: RedisServer;
const dir = mkdtempSync(join(tmpdir(), 'cohort-receiver-'));

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const stores = {
  file: () => new FileCohortStore(join(dir, `store-${++n}.json`)),
  redis: () => {
    const store = new RedisCohortStore({ url: redis.url, keyPrefix: `t${++n}:` });
    return store;
  },
};

describe.each(['file', 'redis'] as const)('receiver on the %s store', (kind) => {
  let store: CohortStore;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const send = (body: unknown, auth: string | null = AUTH) => post(receiver.url, body, auth ?? undefined);
  const members = async (cohortId = '1001') => (await store.members(cohortId)).sort();
  /** Everything the store holds, to show a refused request changed nothing. */
  const snapshot = async () => {
    const cohorts = (await store.cohorts()).sort((a, b) => a.id.localeCompare(b.id));
    return { cohorts, members: await Promise.all(cohorts.map((c) => members(c.id))) };
  };

  beforeEach(async () => {
    store = stores[kind]();
    if (store instanceof RedisCohortStore) await store.ready();
    receiver = await startReceiver({ store, auth: AUTH });
  });
  afterEach(async () => {
    await receiver.close();
    await store.close();
  });

  it('applies a full sync over 3 pages only once its last page arrived', async () => {
    expect(await send(webhook('members', ['old-1'], { session: 's0' }))).toEqual({
      status: 200,
      body: { action: 'members', status: 'success' },
    });
    const page = (p: number, ids: string[]) => webhook('members', ids, { session: 's1', page: p, total: 3 });
    expect((await send(page(1, ['u1', 'u2']))).status).toBe(200);
    expect(await members()).toEqual(['old-1']);
    expect((await send(page(2, ['u3', 'u4']))).status).toBe(200);
    expect(await members()).toEqual(['old-1']);
    expect(await send(page(3, ['u5']))).toEqual({ status: 200, body: { action: 'members', status: 'success' } });
    expect(await members()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    expect(await store.cohorts()).toEqual([expect.objectContaining({ id: '1001', name: 'Power Users', count: 5 })]);
  });

  it('takes a repeated page once, and ignores pages of a sync already applied', async () => {
    const page = (p: number, ids: string[]) => webhook('members', ids, { session: 's2', page: p, total: 3 });
    await send(page(1, ['a', 'b']));
    await send(page(2, ['c']));
    expect((await send(page(2, ['c']))).status).toBe(200); // re-sent after a lost reply
    await send(page(3, ['d']));
    expect(await members()).toEqual(['a', 'b', 'c', 'd']);
    const version = (await store.cohorts())[0]?.version;
    expect(await send(page(3, ['d']))).toEqual({ status: 200, body: { action: 'members', status: 'success' } });
    expect(await send(page(1, ['a', 'b']))).toMatchObject({ status: 200 });
    expect(await members()).toEqual(['a', 'b', 'c', 'd']);
    expect((await store.cohorts())[0]?.version).toBe(version);
  });

  it('keeps the old membership when a sync fails midway, and applies it when restarted from the top', async () => {
    await send(webhook('members', ['x', 'y'], { session: 's0' }));
    const page = (session: string, p: number, ids: string[]) => webhook('members', ids, { session, page: p, total: 3 });
    await send(page('s3', 1, ['n1', 'n2']));
    await send(page('s3', 2, ['n3']));
    // Page 3 never comes: nothing changes.
    expect(await members()).toEqual(['x', 'y']);
    // Mixpanel restarts the sync from its first page.
    await send(page('s3', 1, ['n1', 'n2']));
    await send(page('s3', 2, ['n3']));
    await send(page('s3', 3, ['n4']));
    expect(await members()).toEqual(['n1', 'n2', 'n3', 'n4']);
    // A restart under a new session id, with the old one's pages left behind, also applies whole.
    await send(page('s4', 1, ['m1']));
    await send(page('s5', 1, ['k1']));
    await send(page('s5', 2, ['k2']));
    await send(page('s5', 3, ['k3']));
    expect(await members()).toEqual(['k1', 'k2', 'k3']);
  });

  it('answers 503 when the last page arrives but an earlier one is missing, and changes nothing', async () => {
    await send(webhook('members', ['x'], { session: 's0' }));
    await send(webhook('members', ['p1'], { session: 's6', page: 1, total: 3 }));
    const reply = await send(webhook('members', ['p3'], { session: 's6', page: 3, total: 3 }));
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ action: 'members', status: 'failure', error: { code: 503 } });
    expect(reply.body.error?.message).toMatch(/page\(s\) 2 of 3/);
    expect(await members()).toEqual(['x']);
    // The retried page 2 completes it.
    expect((await send(webhook('members', ['p2'], { session: 's6', page: 2, total: 3 }))).status).toBe(200);
    expect(await members()).toEqual(['p1', 'p2', 'p3']);
  });

  it('applies add_members and remove_members as diffs, idempotently', async () => {
    await send(webhook('members', ['a', 'b'], { session: 's0' }));
    expect(await send(webhook('add_members', ['c', 'd'], { session: 'd1' }))).toEqual({
      status: 200,
      body: { action: 'add_members', status: 'success' },
    });
    const version = (await store.cohorts())[0]?.version;
    await send(webhook('add_members', ['c', 'd'], { session: 'd1' }));
    expect(await members()).toEqual(['a', 'b', 'c', 'd']);
    // Re-sent, it changes nothing: replicas are not made to reload.
    expect((await store.cohorts())[0]?.version).toBe(version);
    expect((await send(webhook('remove_members', ['a', 'c', 'nobody'], { session: 'd2' }))).body).toEqual({
      action: 'remove_members',
      status: 'success',
    });
    await send(webhook('remove_members', ['a', 'c'], { session: 'd2' }));
    expect(await members()).toEqual(['b', 'd']);
    // A diff for a cohort never synced creates it.
    await send(webhook('add_members', ['z'], { cohortId: 2002, name: 'Beta Testers' }));
    expect(await members('2002')).toEqual(['z']);
  });

  it('refuses bad credentials with 401 and changes nothing', async () => {
    await send(webhook('members', ['a'], { session: 's0' }));
    const before = await snapshot();
    const body = webhook('members', ['intruder'], { session: 'evil' });
    for (const auth of [null, 'mixpanel:wrong', 'other:s3cret-Passw0rd', `${AUTH}x`, 'mixpanel:']) {
      const reply = await send(body, auth);
      expect(reply.status, String(auth)).toBe(401);
      expect(reply.body).toMatchObject({ status: 'failure', error: { code: 401 } });
    }
    const raw = await fetch(receiver.url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { authorization: 'Bearer x' },
    });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a malformed or wrongly shaped payload with 400 naming the problem, and changes nothing', async () => {
    await send(webhook('members', ['a'], { session: 's0' }));
    const before = await snapshot();
    const good = webhook('add_members', ['b']);
    const cases: Array<[unknown, RegExp]> = [
      ['{"action": "members", "parameters": ', /not valid JSON/],
      ['[1,2]', /must be a JSON object/],
      [{ ...good, action: 'delete_everything' }, /"action" must be one of/],
      [{ action: 'add_members' }, /"parameters" must be an object/],
      [{ ...good, parameters: { ...good.parameters, mixpanel_cohort_id: '' } }, /mixpanel_cohort_id/],
      [{ ...good, parameters: { ...good.parameters, members: 'b' } }, /"parameters.members" must be an array/],
      [
        { ...good, parameters: { ...good.parameters, members: [{ mixpanel_distinct_id: 'ok' }, { email: 'x@y' }] } },
        /members\[1\]\.mixpanel_distinct_id/,
      ],
      [
        { ...good, parameters: { ...good.parameters, page_info: { total_pages: 2, page_count: 3 } } },
        /exceeds total_pages/,
      ],
      [
        {
          ...webhook('members', ['b'], { total: 2 }),
          parameters: { ...webhook('members', ['b'], { total: 2 }).parameters, mixpanel_session_id: undefined },
        },
        /mixpanel_session_id" is required/,
      ],
    ];
    for (const [body, message] of cases) {
      const reply = await send(body);
      expect(reply.status, String(message)).toBe(400);
      expect(reply.body.status).toBe('failure');
      expect(reply.body.error?.code).toBe(400);
      expect(reply.body.error?.message).toMatch(message);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an oversized body with 413 and changes nothing', async () => {
    await receiver.close();
    receiver = await startReceiver({ store, auth: AUTH, maxBodyBytes: 64 * 1024 });
    await send(webhook('members', ['a'], { session: 's0' }));
    const before = await snapshot();
    const ids = Array.from({ length: 3000 }, (_, i) => `big-${i}`);
    const reply = await send(webhook('add_members', ids));
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ status: 'failure', error: { code: 413 } });
    // Without a Content-Length, the body is cut off while streaming.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(receiver.url, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(AUTH).toString('base64')}`, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = JSON.stringify(webhook('add_members', ids));
      req.write(chunk.slice(0, 40_000));
      req.write(chunk.slice(40_000));
      req.end();
    });
    expect(status).toBe(413);
    expect(await snapshot()).toEqual(before);
  });

  it('answers 405 to other methods', async () => {
    const res = await fetch(receiver.url);
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ status: 'failure', error: { code: 405 } });
  });
});

describe('the file store on disk', () => {
  it('writes one JSON file atomically and reads it back in a new store', async () => {
    const path = join(dir, 'persist.json');
    const first = new FileCohortStore(path);
    const receiver = await startReceiver({ store: first });
    await post(receiver.url, webhook('members', ['old'], { session: 'p0', cohortId: 7 }));
    await post(receiver.url, webhook('members', ['a', 'b'], { session: 'p1', page: 1, total: 2 }));
    await receiver.close();
    await first.close();
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    expect(saved.format).toBe('optimizely-mixpanel-cohorts');
    expect(saved.cohorts['7'].members).toEqual(['old']);
    // A new process finishes the sync whose first page the old one kept.
    const second = new FileCohortStore(path);
    const again = await startReceiver({ store: second });
    await post(again.url, webhook('members', ['c'], { session: 'p1', page: 2, total: 2 }));
    expect((await second.members('1001')).sort()).toEqual(['a', 'b', 'c']);
    expect(await second.members('7')).toEqual(['old']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await again.close();
    await second.close();
  });
});

describe('the Redis store while Redis is down', () => {
  it('answers 503 so Mixpanel retries', async () => {
    const own = await startRedis();
    const store = new RedisCohortStore({ url: own.url });
    await store.ready();
    const receiver = await startReceiver({ store });
    await own.stop();
    const reply = await post(receiver.url, webhook('add_members', ['a']));
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ action: 'add_members', status: 'failure', error: { code: 503 } });
    await receiver.close();
    await store.close();
  });
});
