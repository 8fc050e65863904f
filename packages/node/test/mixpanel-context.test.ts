// Child processes: a node:http shop under the preload (SDK 5.x and 6.x, CommonJS and ESM), its own
// `mixpanel` 0.24 client, the local Mixpanel server, an OTLP receiver and a real redis-server.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { LocalMixpanelServer, OtlpReceiver } from '@optimizely-mixpanel/local-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../../test/support/redis.js';
import { startNode } from './child.js';
import type { FIXTURES } from './helpers.js';

const TOKEN = 'shop-token-5d4c3b2a';
const FLAG = '[Optimizely] checkout_redesign';
let server: LocalMixpanelServer;
let receiver: OtlpReceiver;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  server = new LocalMixpanelServer({ token: TOKEN });
  await server.start();
  receiver = new OtlpReceiver();
  await receiver.start();
});
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await server.stop();
  await receiver.stop();
});
beforeEach(() => {
  server.reset();
  receiver.spans.length = 0;
  receiver.rawBodies.length = 0;
});
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

interface Shop {
  get(path: string): Promise<string>;
  /** SIGTERM (the preload flushes), then the output. */
  stop(): Promise<{ stdout: string; stderr: string }>;
}

async function startShop(
  fixture: keyof typeof FIXTURES,
  entry: string,
  flag: '--require' | '--import' | undefined,
  env: Record<string, string | undefined> = {},
): Promise<Shop> {
  const args = flag ? [flag, '@optimizely-mixpanel/node/register', entry] : [entry];
  // No HTTP_PROXY/HTTPS_PROXY: the mixpanel client cannot start with one.
  const started = startNode(fixture, args, {
    MIXPANEL_TOKEN: TOKEN,
    MIXPANEL_API_HOST: server.url,
    APP_MIXPANEL_TOKEN: TOKEN,
    APP_MIXPANEL_HOST: new URL(server.url).host,
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS: '3000',
    // No spool: what one test leaves undelivered must not be replayed into another.
    OPTIMIZELY_MIXPANEL_SPOOL_DIR: 'off',
    ...env,
  });
  const { child } = started;
  running.add(child);
  const closed = once(child, 'close');
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = /listening on (\d+)/.exec(started.stdout());
      if (match) resolve(Number(match[1]));
    });
    child.on('close', (code) => reject(new Error(`shop exited (${code}): ${started.stderr()}`)));
  });
  return {
    async get(path) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return response.text();
    },
    async stop() {
      child.kill('SIGTERM');
      await closed;
      running.delete(child);
      return { stdout: started.stdout(), stderr: started.stderr() };
    },
  };
}

const purchases = () => server.events.filter((e) => e.event === 'Purchase');
const contextOf = (id: string) => purchases().find((e) => e.properties.distinct_id === id)?.properties[FLAG];

describe.each([
  ['sdk6', 'shop.cjs', '--require'],
  ['sdk6', 'shop.mjs', '--import'],
  ['sdk5', 'shop.cjs', '--require'],
  ['sdk5', 'shop.mjs', '--import'],
] as const)('%s %s with %s', (fixture, entry, flag) => {
  it("Purchase carries the user's variation; the app's own value wins; no decision adds nothing", async () => {
    const shop = await startShop(fixture, entry, flag);
    const served: Record<string, string> = {};
    for (const user of ['user-1', 'user-2', 'user-3', 'user-123'])
      served[user] = await shop.get(`/decide?user=${user}`);
    for (const user of Object.keys(served)) expect(await shop.get(`/purchase?user=${user}`)).toBe('[null]');
    await shop.get('/purchase?user=stranger');
    await shop.get('/purchase?user=user-2&set=chosen-by-app');
    await shop.get('/batch?users=user-1,stranger');
    const { stderr } = await shop.stop();
    expect(stderr).toBe('');

    expect(served['user-123']).toBe('variation_a');
    const single = purchases().filter((e) => e.properties.batch === undefined);
    for (const [user, variation] of Object.entries(served)) {
      expect(single.find((e) => e.properties.distinct_id === user && e.properties.total === 42)?.properties[FLAG]).toBe(
        variation,
      );
    }
    expect(contextOf('stranger')).toBeUndefined();
    expect(single.filter((e) => e.properties.distinct_id === 'user-2').map((e) => e.properties[FLAG])).toContain(
      'chosen-by-app',
    );
    const batch = purchases().filter((e) => e.properties.batch === true);
    expect(Object.fromEntries(batch.map((e) => [e.properties.distinct_id, e.properties[FLAG]]))).toEqual({
      'user-1': served['user-1'],
      stranger: undefined,
    });
    // Our exposures are not touched: they carry no context of their own.
    const exposures = server.events.filter((e) => e.event === 'Experiment Viewed');
    expect(exposures).toHaveLength(4);
    for (const e of exposures) expect(e.properties).not.toHaveProperty(FLAG);
  });
});

describe('identity (Simplified ID Merge)', () => {
  it("exposures carry $device_id and $user_id; the anonymous visitor's Purchase gets its context", async () => {
    const shop = await startShop('sdk6', 'shop.cjs', '--require');
    const anonymous = await shop.get('/decide?user=dev-77&device=dev-77');
    const member = await shop.get('/decide?user=member-1&device=dev-88&account=member-1');
    await shop.get('/purchase?device=dev-77');
    await shop.stop();
    const exposures = server.events.filter((e) => e.event === 'Experiment Viewed');
    expect(exposures.map((e) => e.properties)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ distinct_id: '$device:dev-77', $device_id: 'dev-77', variation_key: anonymous }),
        expect.objectContaining({
          distinct_id: 'member-1',
          $device_id: 'dev-88',
          $user_id: 'member-1',
          variation_key: member,
        }),
      ]),
    );
    expect(exposures[0]?.properties).not.toHaveProperty('$user_id');
    expect(server.profiles.get('$device:dev-77')).toEqual({ [FLAG]: anonymous });
    const purchase = purchases().find((e) => e.properties.$device_id === 'dev-77');
    expect(purchase?.properties[FLAG]).toBe(anonymous);
  });
});

describe('a fleet sharing Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("B, which never decides, sends A's context; with Redis stopped, B's events all arrive without it, counted", async () => {
    const env = {
      OPTIMIZELY_MIXPANEL_CONTEXT_REDIS_URL: redis.url,
      // This test is about sharing, not speed: a busy CI machine must not turn a lookup into a timeout.
      OPTIMIZELY_MIXPANEL_CONTEXT_LOOKUP_TIMEOUT_MS: '2000',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_SERVICE_NAME: 'shop-b',
    };
    const a = await startShop('sdk6', 'shop.cjs', '--require', env);
    const b = await startShop('sdk5', 'shop.mjs', '--import', env);
    const users = ['fleet-1', 'fleet-2', 'user-123'];
    const served: Record<string, string> = {};
    for (const user of users) served[user] = await a.get(`/decide?user=${user}`);
    // A's writes leave in the next tick, pipelined; B reads them when it tracks.
    for (const user of users) await b.get(`/purchase?user=${user}`);
    await b.get(`/batch?users=${users.join(',')}`);
    for (const user of users) {
      const events = purchases().filter((e) => e.properties.distinct_id === user);
      expect(events.map((e) => e.properties[FLAG])).toEqual([served[user], served[user]]);
    }

    await redis.stop();
    server.reset();
    const answers = [];
    for (const user of users) answers.push(await b.get(`/purchase?user=${user}`));
    expect(answers).toEqual(['[null]', '[null]', '[null]']);
    expect(purchases()).toHaveLength(3);
    for (const e of purchases()) expect(e.properties).not.toHaveProperty(FLAG);
    const { stderr } = await b.stop();
    await a.stop();
    expect(stderr).toMatch(/experiment context lookup in Redis failed; the event is sent without it/);
    const failures = metricPoints('optimizely_mixpanel.context.failures', 'shop-b').filter(
      (p) => p.attributes['optimizely_mixpanel.context.operation'] === 'lookup',
    );
    expect(failures.reduce((sum, p) => sum + p.value, 0)).toBe(3);
  }, 90_000); // four processes and a Redis restart on a shared 2-core machine
});

describe('the app client', () => {
  it('no OTLP body carries the token or the payload of its Mixpanel requests', async () => {
    const shop = await startShop('sdk6', 'shop.cjs', '--require', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await shop.get('/decide?user=user-123');
    await shop.get('/purchase?user=user-123');
    await shop.get('/batch?users=user-123');
    await shop.stop();
    await receiver.waitFor((spans) => spans.some((s) => String(s.attributes['url.full']).includes('/track?')));
    const mixpanelSpans = receiver.spans.filter((s) => String(s.attributes['url.full'] ?? '').includes('/track'));
    expect(mixpanelSpans.length).toBeGreaterThanOrEqual(2);
    const get = mixpanelSpans.find((s) => s.attributes['http.request.method'] === 'GET');
    expect(get?.attributes['url.full']).toMatch(/\/track\?ip=0&verbose=0&data=REDACTED$/);
    const bodies = receiver.rawBodies.join('\n');
    expect(bodies).not.toContain(TOKEN);
    // Nothing that decodes to the payload either.
    for (const [, value] of bodies.matchAll(/data=([^&"\\]+)/g)) expect(value).toBe('REDACTED');
    expect(bodies).not.toContain(Buffer.from(`"token":"${TOKEN}"`).toString('base64').slice(4, 24));
  });

  it('pointed at a failing host: failures counted and warned, callbacks receive what they would without us', async () => {
    const env = {
      APP_MIXPANEL_HOST: '127.0.0.1:9', // nothing listens on the discard port
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_SERVICE_NAME: 'shop-failing',
    };
    const calls = ['/purchase?user=user-123', '/batch?users=user-123,other'];
    const plainShop = await startShop('sdk6', 'shop.cjs', undefined, env);
    const plain = [];
    for (const call of calls) plain.push(await plainShop.get(call));
    await plainShop.stop();
    const shop = await startShop('sdk6', 'shop.cjs', '--require', env);
    await shop.get('/decide?user=user-123');
    const instrumented = [];
    for (const call of calls) instrumented.push(await shop.get(call));
    const { stderr } = await shop.stop();

    expect(instrumented).toEqual(plain);
    expect(plain[0]).toContain('ECONNREFUSED');
    expect(stderr.match(/the application's Mixpanel client failed to send/g)).toHaveLength(1);
    expect(stderr).not.toContain(TOKEN);
    const points = metricPoints('optimizely_mixpanel.app_client.failures', 'shop-failing');
    expect(points.reduce((sum, p) => sum + p.value, 0)).toBe(2);
    expect(points.every((p) => p.attributes['error.type'] === 'ECONNREFUSED')).toBe(true);
  });
});

/** The last reported points of a counter from OTLP/JSON metric bodies of one service (cumulative sums). */
function metricPoints(name: string, service: string): Array<{ value: number; attributes: Record<string, unknown> }> {
  const latest = new Map<string, { value: number; attributes: Record<string, unknown> }>();
  for (const body of receiver.rawBodies) {
    if (!body.includes('"resourceMetrics"')) continue;
    // biome-ignore lint/suspicious/noExplicitAny: OTLP JSON is read structurally.
    const request = JSON.parse(body) as any;
    for (const rm of request.resourceMetrics ?? []) {
      // biome-ignore lint/suspicious/noExplicitAny: see above.
      const serviceName = rm.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue;
      if (serviceName !== service) continue;
      for (const sm of rm.scopeMetrics ?? []) {
        for (const metric of sm.metrics ?? []) {
          if (metric.name !== name) continue;
          for (const point of metric.sum?.dataPoints ?? []) {
            const attributes = Object.fromEntries(
              // biome-ignore lint/suspicious/noExplicitAny: see above.
              (point.attributes ?? []).map((a: any) => [a.key, Object.values(a.value)[0]]),
            );
            latest.set(JSON.stringify(attributes), { value: Number(point.asInt ?? point.asDouble ?? 0), attributes });
          }
        }
      }
    }
  }
  return [...latest.values()];
}
