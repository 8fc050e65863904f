import { gzipSync } from 'node:zlib';
import Mixpanel from 'mixpanel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatTable, LocalMixpanelServer } from '../src/index.js';

const TOKEN = 'wire-token';
let server: LocalMixpanelServer;

beforeEach(async () => {
  delete process.env.HTTP_PROXY;
  delete process.env.HTTPS_PROXY;
  server = new LocalMixpanelServer({ token: TOKEN });
  await server.start();
});
afterEach(() => server.stop());

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const event = (distinctId: string, extra: Record<string, unknown> = {}) => ({
  event: 'Experiment Viewed',
  properties: { token: TOKEN, distinct_id: distinctId, time: Date.now(), $insert_id: `id-${distinctId}`, ...extra },
});
const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', body, headers });

function mixpanelClient() {
  const port = new URL(server.url).port;
  return Mixpanel.init(TOKEN, { host: `127.0.0.1:${port}`, protocol: 'http', keepAlive: false });
}

describe('the real mixpanel 0.24 client against the local server', () => {
  it('track() (GET, base64 in the query) is decoded', async () => {
    const mp = mixpanelClient();
    await new Promise<void>((resolve, reject) =>
      mp.track('Signed Up', { distinct_id: 'user-1', plan: 'pro+annual' }, (err) => (err ? reject(err) : resolve())),
    );
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/track', status: 200 });
    expect(server.events[0]).toMatchObject({
      event: 'Signed Up',
      properties: { distinct_id: 'user-1', plan: 'pro+annual', mp_lib: 'node' },
    });
  });

  it('track_batch() (POST, raw base64 with "+" unencoded) is decoded', async () => {
    const mp = mixpanelClient();
    // "~~~>>>" base64-encodes with "+" and "/": a server that reads the body as a URL form corrupts it.
    const events = Array.from({ length: 60 }, (_, i) => ({
      event: 'Batch',
      properties: { distinct_id: `user-${i}`, note: '~~~>>>?', time: Date.now(), $insert_id: `b-${i}` },
    }));
    await new Promise<void>((resolve, reject) =>
      mp.track_batch(events, (errs) => (errs ? reject(errs[0]) : resolve())),
    );
    expect(server.events).toHaveLength(60);
    expect(server.events.every((e) => e.properties.note === '~~~>>>?')).toBe(true);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2); // the client's 50-event cap
  });

  it('people.set() (GET /engage) updates the profile', async () => {
    const mp = mixpanelClient();
    await new Promise<void>((resolve, reject) =>
      mp.people.set('user-9', { '[Optimizely] checkout_redesign': 'variation_a' }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    expect(server.profiles.get('user-9')).toEqual({ '[Optimizely] checkout_redesign': 'variation_a' });
    // The update as it arrived, for tools that show the wire form.
    expect(server.store.profileUpdates[0]?.record).toMatchObject({
      $token: TOKEN,
      $distinct_id: 'user-9',
      $set: { '[Optimizely] checkout_redesign': 'variation_a' },
    });
  });

  it('the client hears of a refused token as an error', async () => {
    const mp = Mixpanel.init('wrong-token', { host: `127.0.0.1:${new URL(server.url).port}`, protocol: 'http' });
    const error = await new Promise<Error | undefined>((resolve) => mp.track('x', { distinct_id: 'u' }, resolve));
    expect(error).toBeInstanceOf(Error);
    expect(server.events).toHaveLength(0);
  });
});

describe('wire formats', () => {
  it('reads form data= with URL-encoded base64 (mixpanel-browser) and with text/plain (sendBeacon)', async () => {
    const data = encodeURIComponent(b64([event('a'), event('b')]));
    await post('/track/?verbose=1&ip=1', `data=${data}`, { 'Content-Type': 'application/x-www-form-urlencoded' });
    await post('/track', `data=${b64([event('c')])}`, { 'Content-Type': 'text/plain;charset=UTF-8' });
    expect(server.events.map((e) => e.properties.distinct_id)).toEqual(['a', 'b', 'c']);
  });

  it('reads JSON, NDJSON and gzip', async () => {
    await post('/track', JSON.stringify([event('j1')]), { 'Content-Type': 'application/json' });
    await post('/import', [event('n1'), event('n2')].map((e) => JSON.stringify(e)).join('\n'), {
      'Content-Type': 'application/x-ndjson',
      Authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`,
    });
    await post('/engage', gzipSync(JSON.stringify([{ $token: TOKEN, $distinct_id: 'g1', $set: { a: 1 } }])), {
      'Content-Type': 'application/json',
      'Content-Encoding': 'gzip',
    });
    expect(server.events.map((e) => e.properties.distinct_id)).toEqual(['j1', 'n1', 'n2']);
    expect(server.profiles.get('g1')).toEqual({ a: 1 });
  });

  it('answers verbose and plain, and /import with its JSON shapes', async () => {
    const verbose = await post('/track?verbose=1', JSON.stringify([event('v')]));
    expect(await verbose.json()).toEqual({ status: 1, error: null });
    const plain = await post('/track', JSON.stringify([event('p')]));
    expect(await plain.text()).toBe('1');
    const bad = await post('/track?verbose=1', JSON.stringify([{ ...event('x'), event: '' }]));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 0 });
    const imported = await post('/import?strict=1', JSON.stringify([event('i')]), {
      Authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`,
    });
    expect(await imported.json()).toEqual({ code: 200, num_records_imported: 1, status: 'OK' });
  });

  it('validates as Mixpanel does: token, $insert_id, placeholder ids, /import fields, limits', async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}` };
    expect((await post('/track', JSON.stringify([{ event: 'x', properties: { distinct_id: 'u' } }]))).status).toBe(400);
    expect(
      (
        await post(
          '/track',
          JSON.stringify([{ ...event('u'), properties: { ...event('u').properties, token: 'other' } }]),
        )
      ).status,
    ).toBe(401);
    expect((await post('/track', JSON.stringify([event('u', { $insert_id: 'has spaces' })]))).status).toBe(400);
    expect((await post('/track', JSON.stringify([event('u', { $insert_id: 'x'.repeat(37) })]))).status).toBe(400);
    expect((await post('/track', JSON.stringify([event('anon')]))).status).toBe(400);
    expect((await post('/track', JSON.stringify([event('u', { time: Date.now() - 6 * 86_400_000 })]))).status).toBe(
      400,
    );
    expect((await post('/track', JSON.stringify(Array.from({ length: 2001 }, (_, i) => event(`u${i}`))))).status).toBe(
      400,
    );
    expect((await post('/track', 'x'.repeat(2 * 1024 * 1024 + 10))).status).toBe(413);
    expect((await post('/import', JSON.stringify([event('u')]))).status).toBe(401);

    const strict = await post(
      '/import?strict=1',
      JSON.stringify([event('ok'), { event: 'x', properties: { distinct_id: 'u', time: Date.now() } }, event('null')]),
      auth,
    );
    expect(strict.status).toBe(400);
    const body = await strict.json();
    expect(body.num_records_imported).toBe(1);
    expect(body.failed_records.map((f: { index: number; field: string }) => [f.index, f.field])).toEqual([
      [1, 'properties.$insert_id'],
      [2, 'properties.distinct_id'],
    ]);
    expect(server.events.map((e) => e.properties.distinct_id)).toEqual(['ok']);
  });

  it('deduplicates on (event, time, distinct_id, $insert_id)', async () => {
    const e = event('dup');
    await post('/track', JSON.stringify([e, e]));
    await post('/track', JSON.stringify([e, { ...e, properties: { ...e.properties, time: e.properties.time + 1 } }]));
    expect(server.events).toHaveLength(2);
    expect(server.store.duplicates).toBe(2);
  });

  it('answers credentialed CORS with the exact origin', async () => {
    const res = await fetch(`${server.url}/track/`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://127.0.0.1:5173', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('plays faults on demand and reports through its read-back API', async () => {
    await fetch(`${server.url}/_local/faults?fault=429:retry-after=3&times=1`, { method: 'POST' });
    const limited = await post('/track', JSON.stringify([event('r')]));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await limited.json()).error).toMatch(/exceeded rate limits/);
    await post('/track', JSON.stringify([event('r')]));
    const events = await (await fetch(`${server.url}/_local/events`)).json();
    expect(events.map((e: { properties: { distinct_id: string } }) => e.properties.distinct_id)).toEqual(['r']);
    const summary = await (await fetch(`${server.url}/_local/summary`)).json();
    expect(summary.exposures).toEqual({ '?': { '?': 1 } });
    expect(formatTable(server)).toContain('Exposure events by flag and variation');
  });

  it('stops and starts again on the same port, keeping what it stored', async () => {
    const url = server.url;
    await server.stop();
    await expect(fetch(`${url}/track`, { method: 'POST', body: '[]' })).rejects.toThrow();
    const stored = server.events.length;
    await server.start();
    expect(server.url).toBe(url);
    expect((await post('/track', JSON.stringify([event('back')]))).status).toBe(200);
    expect(server.events).toHaveLength(stored + 1);
  });
});
