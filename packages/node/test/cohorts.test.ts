import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createCohortReceiver, RedisCohortStore } from '@optimizely-mixpanel/cohorts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyClient, AnySdk } from '../../../test/support/optimizely.js';
import { type RedisServer, startRedis } from '../../../test/support/redis.js';
import { configFromEnv, OptimizelyMixpanelInstrumentation } from '../src/index.js';
import { requireFrom } from './helpers.js';

/** `premium_banner`'s rule `premium_segment_rule` targets the segment `mixpanel_power_users`. */
const DATAFILE = readFileSync(new URL('../../../test/fixtures/datafile-cohorts.json', import.meta.url), 'utf8');

class TestReader extends MetricReader {
  protected override onForceFlush() {
    return Promise.resolve();
  }
  protected override onShutdown() {
    return Promise.resolve();
  }
}

function offlineClient(sdk: AnySdk): AnyClient {
  if (typeof sdk.createStaticProjectConfigManager === 'function') {
    return sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile: DATAFILE }) });
  }
  return sdk.createInstance({
    datafile: DATAFILE,
    logLevel: 'error',
    eventDispatcher: { dispatchEvent: (_e: unknown, cb?: (r: unknown) => void) => cb?.({ statusCode: 204 }) },
    odpOptions: { disabled: true },
  });
}

function page(action: string, ids: string[], session: string, p = 1, total = 1) {
  return {
    action,
    parameters: {
      mixpanel_project_id: '3141592',
      mixpanel_cohort_id: 4242,
      mixpanel_cohort_name: 'Power Users',
      mixpanel_session_id: session,
      page_info: { total_pages: total, page_count: p },
      members: ids.map((id) => ({ mixpanel_distinct_id: id, email: `${id}@example.com` })),
    },
  };
}

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const tracer = tracerProvider.getTracer('app');
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
// One instance for the file: require-in-the-middle tells only the first hook about a module.
let instrumentation: OptimizelyMixpanelInstrumentation;

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  instrumentation = new OptimizelyMixpanelInstrumentation({ spanEvents: true });
  instrumentation.setTracerProvider(tracerProvider);
  instrumentation.setMeterProvider(meterProvider);
});
afterAll(async () => {
  await instrumentation.shutdown(100);
  instrumentation.disable();
  context.disable();
  await meterProvider.shutdown();
});

describe.each(['sdk6', 'sdk5'] as const)('Mixpanel cohorts target decisions with %s', (fixture) => {
  let redis: RedisServer;
  let store: RedisCohortStore;
  let handler: ReturnType<typeof createCohortReceiver>;

  beforeAll(async () => {
    redis = await startRedis();
    store = new RedisCohortStore({ url: redis.url });
    await store.ready();
    handler = createCohortReceiver({ store });
    instrumentation.setConfig({ cohorts: redis.url, spanEvents: true });
    instrumentation.enable();
  });
  afterAll(async () => {
    await instrumentation.cohorts?.shutdown();
    await store.close();
    await redis.stop();
  });

  /** Sends one webhook call through the receiver, then lets the app's replica read the store. */
  async function deliver(body: unknown): Promise<number> {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => handler(req, res)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify(body) });
    server.close();
    await instrumentation.cohorts?.refresh();
    return res.status;
  }

  it('decide() follows the cohort through full syncs, repeats, a restarted sync and diffs', async () => {
    const sdk = requireFrom(fixture)('@optimizely/optimizely-sdk');
    const client = offlineClient(sdk);
    await instrumentation.cohorts?.ready();
    const variation = (user: string) => client.createUserContext(user).decide('premium_banner').variationKey;
    const targeted = (users: string[]) => Object.fromEntries(users.map((u) => [u, variation(u)]));
    const everyone = ['ann', 'bob', 'cat', 'dan', 'eve'];

    expect(targeted(everyone)).toEqual({ ann: 'off', bob: 'off', cat: 'off', dan: 'off', eve: 'off' });
    // members over 3 pages: nothing until the last page.
    expect(await deliver(page('members', ['ann'], 'sync-1', 1, 3))).toBe(200);
    expect(await deliver(page('members', ['bob'], 'sync-1', 2, 3))).toBe(200);
    expect(targeted(everyone)).toEqual({ ann: 'off', bob: 'off', cat: 'off', dan: 'off', eve: 'off' });
    expect(await deliver(page('members', ['cat'], 'sync-1', 3, 3))).toBe(200);
    expect(targeted(everyone)).toEqual({ ann: 'on', bob: 'on', cat: 'on', dan: 'off', eve: 'off' });
    // A repeated page changes nothing.
    expect(await deliver(page('members', ['cat'], 'sync-1', 3, 3))).toBe(200);
    expect(targeted(everyone)).toEqual({ ann: 'on', bob: 'on', cat: 'on', dan: 'off', eve: 'off' });
    // A sync that fails after its second page, then restarts from the top.
    await deliver(page('members', ['dan'], 'sync-2', 1, 3));
    await deliver(page('members', ['eve'], 'sync-2', 2, 3));
    expect(targeted(everyone)).toEqual({ ann: 'on', bob: 'on', cat: 'on', dan: 'off', eve: 'off' });
    await deliver(page('members', ['dan'], 'sync-2', 1, 3));
    await deliver(page('members', ['eve'], 'sync-2', 2, 3));
    await deliver(page('members', ['ann'], 'sync-2', 3, 3));
    expect(targeted(everyone)).toEqual({ ann: 'on', bob: 'off', cat: 'off', dan: 'on', eve: 'on' });
    // Diffs.
    expect(await deliver(page('add_members', ['bob'], 'diff-1'))).toBe(200);
    expect(targeted(everyone)).toEqual({ ann: 'on', bob: 'on', cat: 'off', dan: 'on', eve: 'on' });
    expect(await deliver(page('remove_members', ['ann', 'eve'], 'diff-2'))).toBe(200);
    expect(targeted(everyone)).toEqual({ ann: 'off', bob: 'on', cat: 'off', dan: 'on', eve: 'off' });
    client.close();
  });

  it('shows the segment a decision relied on, and the members per cohort', async () => {
    const sdk = requireFrom(fixture)('@optimizely/optimizely-sdk');
    const client = offlineClient(sdk);
    await instrumentation.cohorts?.ready();
    await deliver(page('members', ['ann', 'bob'], 'sync-9'));
    spans.reset();
    const span = tracer.startSpan('request');
    context.with(trace.setSpan(context.active(), span), () => {
      client.createUserContext('ann').decide('premium_banner');
      client.createUserContext('zoe').decide('premium_banner');
      client.createUserContext('ann').decide('checkout_redesign');
    });
    span.end();
    const events = spans.getFinishedSpans()[0]?.events.map((e) => e.attributes ?? {});
    expect(
      events?.map((e) => [e['feature_flag.key'], e['feature_flag.result.variant'], e['optimizely.segments']]),
    ).toEqual([
      ['premium_banner', 'on', 'mixpanel_power_users'],
      ['premium_banner', 'off', undefined],
      ['checkout_redesign', expect.any(String), undefined],
    ]);
    const { resourceMetrics } = await reader.collect();
    const gauge = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'mixpanel.cohort.members');
    expect(gauge?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'mixpanel.cohort.id': '4242', 'optimizely.segment': 'mixpanel_power_users' }, 2],
    ]);
    client.close();
  });
});

describe('without cohorts', () => {
  it('loads neither the cohorts package nor the Redis client', () => {
    const script = `
      const { OptimizelyMixpanelInstrumentation } = require('./dist/index.js');
      const sdk = require('optimizely-sdk-v6');
      const instrumentation = new OptimizelyMixpanelInstrumentation({ enabled: false });
      const client = sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile: ${JSON.stringify(DATAFILE)} }) });
      instrumentation.instrumentClient(client);
      client.createUserContext('ann').decide('premium_banner');
      const loaded = Object.keys(require.cache).filter((k) => /cohorts[\\/]dist|[\\/]@redis[\\/]/.test(k));
      console.log(JSON.stringify(loaded));
      client.close();
    `;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').pop() as string)).toEqual([]);
  });
});

describe('configuration from the environment', () => {
  it('reads OPTIMIZELY_MIXPANEL_COHORTS and OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS', () => {
    expect(configFromEnv({ OPTIMIZELY_MIXPANEL_COHORTS: ' redis://127.0.0.1:6379 ' }).cohorts).toBe(
      'redis://127.0.0.1:6379',
    );
    expect(
      configFromEnv({
        OPTIMIZELY_MIXPANEL_COHORTS: '/var/lib/cohorts.json',
        OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS: '12=vip, 34=beta',
      }).cohorts,
    ).toEqual({ store: '/var/lib/cohorts.json', segments: { '12': 'vip', '34': 'beta' } });
    expect(configFromEnv({}).cohorts).toBeUndefined();
    const warnings: string[] = [];
    const config = configFromEnv(
      { OPTIMIZELY_MIXPANEL_COHORTS: 'x', OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS: '12=a=secret-ish' },
      (m) => warnings.push(m),
    );
    expect(config.cohorts).toBe('x');
    expect(warnings).toEqual([
      expect.stringMatching(/^OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS must be <cohort id>=<segment>/),
    ]);
    expect(warnings.join()).not.toContain('secret-ish');
  });
});
