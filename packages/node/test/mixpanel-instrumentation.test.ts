import { createRequire } from 'node:module';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOfflineClient } from '../../../test/support/optimizely.js';
import { type RedisServer, startRedis } from '../../../test/support/redis.js';
import {
  ExperimentContext,
  experimentContext,
  experimentContextAsync,
  MixpanelInstrumentation,
  OptimizelyMixpanelInstrumentation,
  sharedExperimentContext,
} from '../src/index.js';
import { setSharedExperimentContext } from '../src/shared-context.js';
import { requireFrom } from './helpers.js';

delete process.env.HTTP_PROXY;
delete process.env.HTTPS_PROXY;
const TOKEN = 'mixpanel-instrumentation-token-9f8e';
const require = createRequire(import.meta.url);
const FLAG = '[Optimizely] checkout_redesign';
const BANNER = '[Optimizely] premium_banner';

// biome-ignore lint/suspicious/noExplicitAny: the mixpanel client is untyped here on purpose (as apps use it).
type Client = any;
let server: LocalMixpanelServer;
// One instance for the file, as in an application (require-in-the-middle tells the first hook only).
let instrumentation: MixpanelInstrumentation;
let Mixpanel: { init(token: string, config: object): Client };

beforeAll(async () => {
  server = new LocalMixpanelServer({ token: TOKEN });
  await server.start();
  instrumentation = new MixpanelInstrumentation();
  Mixpanel = require('mixpanel');
});
afterAll(async () => {
  instrumentation.disable();
  await server.stop();
});
beforeEach(() => {
  server.reset();
  setSharedExperimentContext(new ExperimentContext());
});
afterEach(() => diag.disable());

function client(config: object = {}): Client {
  return Mixpanel.init(TOKEN, { host: new URL(server.url).host, protocol: 'http', ...config });
}

/** Calls `fn(callback)` and resolves with what the callback received. */
function called(fn: (callback: (...args: unknown[]) => void) => void): Promise<unknown[]> {
  return new Promise((resolve) => fn((...args) => resolve(args)));
}

function decided(distinctId: string, name: string, value: string): void {
  sharedExperimentContext().record(distinctId, name, value, Date.now());
}

describe('the decision path', () => {
  it('writes the context once per exposure (experiments and rollouts), never for a repeated decide()', async () => {
    const writes: string[] = [];
    class Counting extends ExperimentContext {
      override record(distinctId: string, name: string, value: string, nowMs: number): void {
        writes.push(`${distinctId} ${name}=${value}`);
        super.record(distinctId, name, value, nowMs);
      }
    }
    setSharedExperimentContext(new Counting());
    const decisions = new OptimizelyMixpanelInstrumentation({ token: TOKEN, apiHost: server.url });
    try {
      const client = createOfflineClient(requireFrom('sdk6')('@optimizely/optimizely-sdk'));
      expect(decisions.instrumentClient(client)).toBe(true);
      const user = client.createUserContext('user-123');
      for (let i = 0; i < 5; i++) user.decide('checkout_redesign');
      user.decide('premium_banner'); // the everyone-else rollout: a profile-only exposure
      expect(writes).toEqual(['user-123 [Optimizely] checkout_redesign=variation_a', `user-123 ${BANNER}=off`]);
      expect(experimentContext('user-123')).toEqual({ [FLAG]: 'variation_a', [BANNER]: 'off' });
    } finally {
      decisions.disable();
      await decisions.shutdown(2000); // its exposures land now, not in the next test
    }
  });
});

describe('MixpanelInstrumentation, memory only', () => {
  it('adds the context to track and import; an app-set property wins; no context adds nothing', async () => {
    const mp = client();
    expect(mp.track.__wrapped).toBe(true);
    decided('buyer', FLAG, 'variation_a');
    decided('buyer', BANNER, 'off');
    await called((cb) => mp.track('Purchase', { distinct_id: 'buyer', total: 10 }, cb));
    await called((cb) => mp.track('Purchase', { distinct_id: 'buyer', [FLAG]: 'app value' }, cb));
    await called((cb) => mp.track('Purchase', { distinct_id: 'stranger' }, cb));
    await called((cb) => mp.track('Experiment Viewed', { distinct_id: 'buyer', flag_key: 'checkout_redesign' }, cb));
    await called((cb) => mp.track('Signup', cb)); // no properties at all
    await server.waitFor(() => server.events.length === 5);
    const byId = (id: string, event = 'Purchase') =>
      server.events.filter((e) => e.event === event && e.properties.distinct_id === id).map((e) => e.properties);
    expect(byId('buyer')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ total: 10, [FLAG]: 'variation_a', [BANNER]: 'off' }),
        expect.objectContaining({ [FLAG]: 'app value', [BANNER]: 'off' }),
      ]),
    );
    expect(Object.keys(byId('stranger')[0] ?? {}).filter((k) => k.startsWith('[Optimizely]'))).toEqual([]);
    expect(byId('buyer', 'Experiment Viewed')[0]).not.toHaveProperty(FLAG);
    expect(instrumentation.stats()).toMatchObject({ withLocalContext: 2, withoutContext: 1 });
  });

  it('adds it to every event of track_batch and import_batch, keyed by $user_id or $device_id too', async () => {
    const mp = client({ secret: undefined });
    decided('u-batch', FLAG, 'control');
    decided('device-1', FLAG, 'variation_a'); // the device id was the SDK user id
    decided('$device:device-2', FLAG, 'on'); // an exposure with the $device_id attribute
    decided('logged-in', FLAG, 'off');
    await called((cb) =>
      mp.track_batch(
        [
          { event: 'Viewed', properties: { distinct_id: 'u-batch', time: Date.now() } },
          { event: 'Viewed', properties: { $device_id: 'device-1', time: Date.now() } },
          { event: 'Viewed', properties: { distinct_id: 'nobody', time: Date.now() } },
          { event: 'Viewed', properties: { $device_id: 'device-2', time: Date.now() } },
          { event: 'Viewed', properties: { $device_id: 'device-3', $user_id: 'logged-in', time: Date.now() } },
        ],
        cb,
      ),
    );
    await server.waitFor(() => server.events.length === 5);
    const values = Object.fromEntries(
      server.events.map((e) => [String(e.properties.distinct_id ?? e.properties.$device_id), e.properties[FLAG]]),
    );
    expect(values).toEqual({
      'u-batch': 'control',
      'device-1': 'variation_a',
      nobody: undefined,
      'device-2': 'on',
      'device-3': 'off',
    });
  });

  it('only the configured event names get context', async () => {
    instrumentation.setConfig({ includeEvents: ['Purchase'] });
    try {
      const mp = client();
      decided('u-inc', FLAG, 'control');
      await called((cb) => mp.track('Purchase', { distinct_id: 'u-inc' }, cb));
      await called((cb) => mp.track('Page', { distinct_id: 'u-inc' }, cb));
      await server.waitFor(() => server.events.length === 2);
      expect(Object.fromEntries(server.events.map((e) => [e.event, e.properties[FLAG]]))).toEqual({
        Purchase: 'control',
        Page: undefined,
      });
    } finally {
      instrumentation.setConfig({});
    }
  });

  it('experimentContext() gives the same properties to other pipelines', async () => {
    decided('api-user', FLAG, 'variation_a');
    expect(experimentContext('api-user')).toEqual({ [FLAG]: 'variation_a' });
    expect(experimentContext('nobody')).toBeUndefined();
    expect(await experimentContextAsync('api-user')).toEqual({ [FLAG]: 'variation_a' });
  });

  it("counts and reports the app client's failures; its callbacks receive exactly what they would without us", async () => {
    const warnings: string[] = [];
    const push = (...args: unknown[]) => warnings.push(args.join(' '));
    diag.setLogger({ error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    // A loopback port with nothing listening, and a server that answers 500.
    const down = { host: '127.0.0.1:9', protocol: 'http' };
    instrumentation.disable();
    const plain = client(down);
    const plainBatch = await called((cb) => plain.track_batch([{ event: 'A', properties: { distinct_id: 'x' } }], cb));
    const plainTrack = await called((cb) => plain.track('A', { distinct_id: 'x' }, cb));
    instrumentation.enable();
    const before = instrumentation.stats().clientFailures;
    const mp = client(down);
    expect(mp.track.__wrapped).toBe(true);
    const batch = await called((cb) => mp.track_batch([{ event: 'A', properties: { distinct_id: 'x' } }], cb));
    const track = await called((cb) => mp.track('A', { distinct_id: 'x' }, cb));
    const shape = (args: unknown[]) =>
      JSON.stringify(args, (_k, v) =>
        v instanceof Error ? { error: v.constructor.name, code: (v as { code?: string }).code } : v,
      );
    expect(shape(batch)).toBe(shape(plainBatch));
    expect(shape(track)).toBe(shape(plainTrack));
    expect((track[0] as { code?: string }).code).toBe('ECONNREFUSED');

    server.injectFault('500', { times: 1 });
    const served = client();
    const failed = await called((cb) => served.track('B', { distinct_id: 'y' }, cb));
    expect(String(failed[0])).toMatch(/Mixpanel Server Error/);
    expect(instrumentation.stats().clientFailures - before).toBe(3);
    // Rate-limited: one line for the three failures.
    const reported = warnings.filter((w) => w.includes("application's Mixpanel client failed"));
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain('ECONNREFUSED');
    expect(warnings.join('\n')).not.toContain(TOKEN);
  });
});

describe('MixpanelInstrumentation with Redis', () => {
  it('Redis unreachable from the start: every event arrives without context, in order, counted', async () => {
    // A loopback port with nothing listening.
    const context = new ExperimentContext({ redisUrl: 'redis://127.0.0.1:9', lookupTimeoutMs: 100 });
    setSharedExperimentContext(context);
    context.record('decided-here', FLAG, 'control', Date.now()); // a write that can never go out
    const mp = client();
    const before = instrumentation.stats().lookupFailed;
    const results = await Promise.all(
      [1, 2, 3].map((i) => called((cb) => mp.track(`Unreached ${i}`, { distinct_id: 'someone' }, cb))),
    );
    expect(results).toEqual([[undefined], [undefined], [undefined]]);
    await server.waitFor(() => server.events.length === 3);
    expect(server.events.every((e) => e.properties[FLAG] === undefined)).toBe(true);
    expect(instrumentation.stats().lookupFailed - before).toBe(3);
    await context.close(); // returns: a connection that never comes holds nothing
  });

  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await sharedExperimentContext().close();
    await redis.stop();
  });

  it("a service that never decided sends the deciding service's context; order is kept; Redis gone: sent without it, counted", async () => {
    const deciding = new ExperimentContext({ redisUrl: redis.url });
    deciding.record('shared-user', FLAG, 'variation_a', Date.now());
    await deciding.flush();
    await deciding.close();

    const tracking = new ExperimentContext({ redisUrl: redis.url, lookupTimeoutMs: 500 });
    setSharedExperimentContext(tracking);
    decided('local-user', FLAG, 'control');
    const mp = client();
    const order: string[] = [];
    const send = mp.send_request;
    mp.send_request = function (this: unknown, options: { data: { event: string } }, cb: unknown) {
      order.push(options.data.event);
      return send.call(this, options, cb);
    };
    const first = called((cb) => mp.track('Purchase 1', { distinct_id: 'shared-user' }, cb));
    const second = called((cb) => mp.track('Purchase 2', { distinct_id: 'local-user' }, cb));
    expect(order).toEqual([]); // the second waits behind the first's lookup
    await Promise.all([first, second]);
    expect(order).toEqual(['Purchase 1', 'Purchase 2']);
    await server.waitFor(() => server.events.length === 2);
    expect(Object.fromEntries(server.events.map((e) => [e.event, e.properties[FLAG]]))).toEqual({
      'Purchase 1': 'variation_a',
      'Purchase 2': 'control',
    });
    expect(await experimentContextAsync('shared-user')).toEqual({ [FLAG]: 'variation_a' });

    await redis.stop();
    const before = instrumentation.stats().lookupFailed;
    const results = await Promise.all(
      [1, 2, 3].map((i) => called((cb) => mp.track(`After ${i}`, { distinct_id: 'shared-user' }, cb))),
    );
    expect(results).toEqual([[undefined], [undefined], [undefined]]);
    await server.waitFor(() => server.events.length === 5);
    expect(server.events.slice(2).every((e) => e.properties[FLAG] === undefined)).toBe(true);
    expect(instrumentation.stats().lookupFailed - before).toBe(3);
    expect(Object.values(tracking.failures.lookup).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThanOrEqual(3);
  });
});
