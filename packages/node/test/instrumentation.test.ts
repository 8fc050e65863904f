import { createHash, createHmac } from 'node:crypto';
import { context, DiagLogLevel, diag, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AnyClient, type AnySdk, createOfflineClient } from '../../../test/support/optimizely.js';
import { OptimizelyMixpanelInstrumentation, type OptimizelyMixpanelInstrumentationConfig } from '../src/index.js';
import { requireFrom } from './helpers.js';

const TOKEN = 'node-test-token';
let server: LocalMixpanelServer;
// One instance for the file, as in an application: require-in-the-middle tells only the first
// hook about a module, so a second instance would never see the SDK.
let instrumentation: OptimizelyMixpanelInstrumentation;
const spans = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const tracer = provider.getTracer('app');
const metricReader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [metricReader] });

/** Sums of a counter's data points by the value of one attribute. */
async function counterBy(name: string, attribute: string): Promise<Record<string, number>> {
  const { resourceMetrics } = await metricReader.collect();
  const out: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        const key = String(point.attributes[attribute]);
        out[key] = (out[key] ?? 0) + (point.value as number);
      }
    }
  }
  return out;
}

const baseConfig = (): OptimizelyMixpanelInstrumentationConfig => ({
  token: TOKEN,
  apiHost: server.url,
  exporterConfig: { flushIntervalMs: 20, retry: { initialDelayMs: 10, maxJitterMs: 0 } },
});

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  server = new LocalMixpanelServer({ token: TOKEN });
  await server.start();
  instrumentation = new OptimizelyMixpanelInstrumentation(baseConfig());
  instrumentation.setTracerProvider(provider);
  instrumentation.setMeterProvider(meterProvider);
});
afterAll(async () => {
  await instrumentation.shutdown(100);
  instrumentation.disable();
  context.disable();
  await server.stop();
});
beforeEach(() => {
  server.reset();
  spans.reset();
});
afterEach(async () => {
  await instrumentation.flush();
  diag.disable();
});

/** Collects what reaches the OpenTelemetry diag logger at WARN and above. */
function captureWarnings(): string[] {
  const warnings: string[] = [];
  const push = (...args: unknown[]) => warnings.push(args.join(' '));
  diag.setLogger({ error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  return warnings;
}

/** Reconfigures the one instrumentation for a test. */
function instrument(config: OptimizelyMixpanelInstrumentationConfig = {}) {
  instrumentation.setConfig({ ...baseConfig(), ...config });
  instrumentation.enable();
  return instrumentation;
}

function inSpan<T>(name: string, fn: () => T): { result: T; spanId: string } {
  const span = tracer.startSpan(name);
  const result = context.with(trace.setSpan(context.active(), span), fn);
  span.end();
  return { result, spanId: span.spanContext().spanId };
}

describe.each(['sdk6', 'sdk5'] as const)('OptimizelyMixpanelInstrumentation with %s (require)', (fixture) => {
  it('patches createInstance so a decide() right after it is exported', async () => {
    const inst = instrument();
    const sdk: AnySdk = requireFrom(fixture)('@optimizely/optimizely-sdk');
    expect(sdk.createInstance.__wrapped).toBe(true);
    if (sdk.default?.createInstance) expect(sdk.default.createInstance.__wrapped).toBe(true);
    const client = createOfflineClient(sdk);
    client.createUserContext('user-1').decide('checkout_redesign');
    await inst.flush();
    expect(server.events.map((e) => [e.event, e.properties.distinct_id, e.properties.variation_key])).toEqual([
      ['Experiment Viewed', 'user-1', expect.any(String)],
    ]);
    client.close();
  });

  it('records a feature_flag.evaluation event on the active span, with the context id hashed', async () => {
    instrument();
    const sdk: AnySdk = requireFrom(fixture)('@optimizely/optimizely-sdk');
    const client = createOfflineClient(sdk);
    const user = client.createUserContext('user-123');
    inSpan('GET /checkout', () => {
      user.decide('checkout_redesign');
      user.decide('checkout_redesign');
    });
    client.close();
    const [span] = spans.getFinishedSpans();
    expect(span?.events.map((e) => e.name)).toEqual(['feature_flag.evaluation', 'feature_flag.evaluation']);
    expect(span?.events[0]?.attributes).toMatchObject({
      'feature_flag.key': 'checkout_redesign',
      'feature_flag.result.variant': 'variation_a',
      'feature_flag.provider.name': 'Optimizely',
      'feature_flag.result.reason': 'split',
      'feature_flag.set.id': 'production',
      'feature_flag.version': '1',
      'optimizely.rule.key': 'checkout_redesign_ab',
      'optimizely.exposure': 'exported',
    });
    expect(span?.events[1]?.attributes?.['optimizely.exposure']).toBe('duplicate');
    const contextId = span?.events[0]?.attributes?.['feature_flag.context.id'];
    expect(contextId).toMatch(/^[0-9a-f]{32}$/);
    expect(contextId).not.toContain('user-123');
  });

  it('disable() restores createInstance, enable() wraps it again', () => {
    const inst = instrument();
    const sdk: AnySdk = requireFrom(fixture)('@optimizely/optimizely-sdk');
    expect(sdk.createInstance.__wrapped).toBe(true);
    inst.disable();
    expect(sdk.createInstance.__wrapped).toBeUndefined();
    if (sdk.default?.createInstance) expect(sdk.default.createInstance.__wrapped).toBeUndefined();
    inst.enable();
    expect(sdk.createInstance.__wrapped).toBe(true);
  });
});

describe('OptimizelyMixpanelInstrumentation behaviour', () => {
  it('derives the reason from the datafile: targeted delivery, everyone else', () => {
    instrument();
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const client = createOfflineClient(sdk);
    inSpan('GET /home', () => {
      const user = client.createUserContext('user-123');
      user.decide('premium_banner');
      user.qualifiedSegments = ['premium_users'];
      user.decide('premium_banner');
    });
    client.close();
    const events = spans.getFinishedSpans()[0]?.events ?? [];
    expect(
      events.map((e) => [e.attributes?.['feature_flag.result.reason'], e.attributes?.['feature_flag.result.variant']]),
    ).toEqual([
      ['default', 'off'],
      ['targeting_match', 'on'],
    ]);
  });

  it('opt-in decision spans; raw or no context id by choice', () => {
    instrument({ decisionSpans: true, spanEvents: false, contextId: 'raw' });
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const client = createOfflineClient(sdk);
    client.createUserContext('user-7').decide('checkout_redesign');
    client.close();
    const decisionSpans = spans.getFinishedSpans().filter((s) => s.name === 'feature_flag.evaluation');
    expect(decisionSpans).toHaveLength(1);
    expect(decisionSpans[0]?.attributes['feature_flag.context.id']).toBe('user-7');
  });

  it('hooks add properties and drop exposures; throwing hooks are contained', async () => {
    const inst = instrument({
      exposureHook: (exposure) => {
        if (exposure.distinctId === 'user-drop') return false;
        if (exposure.distinctId === 'user-throw') throw new Error('hook failure');
        for (const event of exposure.events) event.properties.app_version = '1.2.3';
        return undefined;
      },
      evaluationHook: (attributes, decision) => {
        if (decision.flagKey === 'premium_banner') throw new Error('evaluation hook failure');
        attributes['app.tier'] = 'gold';
      },
    });
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const client: AnyClient = createOfflineClient(sdk);
    inSpan('GET /x', () => {
      for (const id of ['user-keep', 'user-drop', 'user-throw'])
        client.createUserContext(id).decide('checkout_redesign');
      client.createUserContext('user-keep').decide('premium_banner');
    });
    await inst.flush();
    client.close();
    const byUser = Object.fromEntries(
      server.events.map((e) => [`${e.properties.distinct_id}/${e.properties.flag_key}`, e]),
    );
    // premium_banner is a rollout: its profile property is sent, no event.
    expect(Object.keys(byUser).sort()).toEqual(['user-keep/checkout_redesign', 'user-throw/checkout_redesign']);
    expect(server.profiles.get('user-keep')).toMatchObject({ '[Optimizely] premium_banner': 'off' });
    expect(byUser['user-keep/checkout_redesign']?.properties.app_version).toBe('1.2.3');
    expect(byUser['user-throw/checkout_redesign']?.properties.app_version).toBeUndefined();
    expect(inst.stats().skipped.dropped_by_hook).toBe(1);
    const events = spans.getFinishedSpans()[0]?.events ?? [];
    expect(events.map((e) => e.attributes?.['app.tier'])).toEqual(['gold', 'gold', 'gold', undefined]);
    expect(events).toHaveLength(4);
  });

  it('reports an SDK loaded too early once, and instrumentClient reaches its clients exactly once', async () => {
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    instrumentation.disable();
    const early = createOfflineClient(sdk); // created while the SDK is not patched
    const warnings = captureWarnings();
    // A second instance enabled after the SDK was loaded: the "registered too late" case.
    const late = new OptimizelyMixpanelInstrumentation({ ...baseConfig(), dedupWindowMs: 0 });
    late.enable();
    expect(warnings.filter((w) => w.includes('was loaded before @optimizely-mixpanel/node'))).toHaveLength(1);
    expect(warnings.find((w) => w.includes('was loaded before'))).toMatch(
      /--require @optimizely-mixpanel\/node\/register/,
    );
    expect(warnings.find((w) => w.includes('was loaded before'))).toMatch(/instrumentClient/);
    const inst = late;

    early.createUserContext('user-early').decide('checkout_redesign');
    await inst.flush();
    expect(server.events).toHaveLength(0); // no listener: the documented failure

    expect(inst.instrumentClient(early)).toBe(true);
    expect(inst.instrumentClient(early)).toBe(true);
    early.createUserContext('user-early').decide('checkout_redesign');
    await inst.flush();
    expect(server.events).toHaveLength(1); // one listener, not two
    expect(inst.instrumentClient({})).toBe(false);
    expect(inst.instrumentClient(null)).toBe(false);
    early.close();
    await late.shutdown(100);
    late.disable();
    instrumentation.enable();
  });

  it('without a token: says so once, patches nothing into failure, and decisions still reach spans', async () => {
    const warnings = captureWarnings();
    const inst = instrument({ token: undefined });
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const client = createOfflineClient(sdk);
    inSpan('GET /a', () => {
      client.createUserContext('user-1').decide('checkout_redesign');
      client.createUserContext('user-2').decide('checkout_redesign');
    });
    client.close();
    expect(inst.exporter).toBeUndefined();
    expect(warnings.filter((w) => w.includes('MIXPANEL_TOKEN is not set'))).toHaveLength(1);
    expect(spans.getFinishedSpans()[0]?.events[0]?.attributes?.['optimizely.exposure']).toBe('no_exporter');
  });

  it('a rollout gives the profile property without an exposure event; OPTIMIZELY_MIXPANEL_ROLLOUTS chooses', async () => {
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const run = async (userId: string) => {
      const client = createOfflineClient(sdk);
      const user = client.createUserContext(userId);
      user.decide('checkout_redesign');
      user.decide('premium_banner'); // everyone else
      const premium = client.createUserContext(`${userId}-premium`);
      premium.qualifiedSegments = ['premium_users'];
      premium.decide('premium_banner'); // targeted delivery
      await instrumentation.flush();
      client.close();
    };
    instrument();
    await run('user-r1');
    expect(server.events.map((e) => `${e.properties.distinct_id} ${e.properties.flag_key}`)).toEqual([
      'user-r1 checkout_redesign',
    ]);
    expect(server.profiles.get('user-r1')).toEqual({
      '[Optimizely] checkout_redesign': 'variation_a',
      '[Optimizely] premium_banner': 'off',
    });
    expect(server.profiles.get('user-r1-premium')).toEqual({ '[Optimizely] premium_banner': 'on' });

    process.env.OPTIMIZELY_MIXPANEL_ROLLOUTS = 'event';
    try {
      instrument();
      server.reset();
      await run('user-r2');
      expect(server.events.map((e) => `${e.properties.distinct_id} ${e.properties.flag_key}`).sort()).toEqual([
        'user-r2 checkout_redesign',
        'user-r2 premium_banner',
        'user-r2-premium premium_banner',
      ]);
      process.env.OPTIMIZELY_MIXPANEL_ROLLOUTS = 'off';
      instrument();
      server.reset();
      await run('user-r3');
      expect(server.events.map((e) => e.properties.flag_key)).toEqual(['checkout_redesign']);
      expect(server.profiles.get('user-r3')).toEqual({ '[Optimizely] checkout_redesign': 'variation_a' });
      expect(instrumentation.stats().skipped.rollout_excluded).toBe(2);
    } finally {
      delete process.env.OPTIMIZELY_MIXPANEL_ROLLOUTS;
    }
  });

  it('exposure events carry the trace id of the span active in decide(), the span event their $insert_id', async () => {
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    instrument();
    const client = createOfflineClient(sdk);
    const span = tracer.startSpan('GET /traced');
    context.with(trace.setSpan(context.active(), span), () =>
      client.createUserContext('user-t1').decide('checkout_redesign'),
    );
    span.end();
    client.createUserContext('user-t2').decide('checkout_redesign'); // no active span
    await instrumentation.flush();
    const byUser = Object.fromEntries(server.events.map((e) => [e.properties.distinct_id, e.properties]));
    expect(byUser['user-t1']?.trace_id).toBe(span.spanContext().traceId);
    expect(byUser['user-t2']).not.toHaveProperty('trace_id');
    const event = spans.getFinishedSpans().find((s) => s.name === 'GET /traced')?.events[0];
    expect(event?.attributes?.['mixpanel.insert_id']).toBe(byUser['user-t1']?.$insert_id);

    instrument({ traceIds: false });
    server.reset();
    const off = tracer.startSpan('GET /untraced');
    context.with(trace.setSpan(context.active(), off), () =>
      client.createUserContext('user-t3').decide('checkout_redesign'),
    );
    off.end();
    await instrumentation.flush();
    client.close();
    expect(server.events[0]?.properties.distinct_id).toBe('user-t3');
    expect(server.events[0]?.properties).not.toHaveProperty('trace_id');
  });

  it('export spans use the tracer provider given to setTracerProvider()', async () => {
    const inst = instrument();
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const client = createOfflineClient(sdk);
    inSpan('GET /export', () => client.createUserContext('user-export').decide('checkout_redesign'));
    await inst.flush();
    client.close();
    const exportSpans = spans.getFinishedSpans().filter((s) => s.name.startsWith('POST '));
    expect(exportSpans.length).toBeGreaterThan(0);
    expect(exportSpans[0]?.instrumentationScope.name).toBe('@optimizely-mixpanel/exporter');
  });

  it("counts every decision by outcome on the instrumentation's meter", async () => {
    const before = await counterBy('optimizely_mixpanel.decisions', 'optimizely.exposure');
    const inst = instrument();
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const client = createOfflineClient(sdk);
    const user = client.createUserContext('user-meter');
    user.decide('checkout_redesign');
    user.decide('checkout_redesign');
    user.decide('checkout_redesign');
    client.createUserContext('anon').decide('checkout_redesign');
    await inst.flush();
    client.close();
    const after = await counterBy('optimizely_mixpanel.decisions', 'optimizely.exposure');
    const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    expect([delta('exported'), delta('duplicate'), delta('invalid_user_id')]).toEqual([1, 2, 1]);
    expect(inst.stats().skipped.duplicate).toBeGreaterThanOrEqual(2);
  });
});

describe('hostile hooks, clients and settings', () => {
  /** Decides checkout_redesign (an experiment) and premium_banner (a rollout) for each user, then flushes. */
  async function decideFor(userIds: string[], flags = ['checkout_redesign']) {
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const client = createOfflineClient(sdk);
    for (const id of userIds) for (const flag of flags) client.createUserContext(id).decide(flag);
    await instrumentation.flush();
    client.close();
  }

  it('an async hook that rejects is contained and reported; its promise is not awaited', async () => {
    const warnings = captureWarnings();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      instrument({
        exposureHook: async (exposure) => {
          if (exposure.distinctId === 'user-async-false') return false;
          throw new Error('async hook failure');
        },
      });
      await decideFor(['user-async-throw', 'user-async-false', 'user-async-throw-2']);
      await new Promise((resolve) => setImmediate(resolve));
      await expect.poll(() => warnings.some((w) => w.includes("exposureHook's promise rejected"))).toBe(true);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    // Documented: a promise's result is ignored, so `async () => false` drops nothing.
    expect(server.events.map((e) => e.properties.distinct_id).sort()).toEqual([
      'user-async-false',
      'user-async-throw',
      'user-async-throw-2',
    ]);
    expect(warnings.filter((w) => w.includes('returned a promise'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('promise rejected'))).toHaveLength(1); // rate-limited
  });

  it('what a hook leaves behind is validated, and every removal is counted', async () => {
    instrument({
      exposureHook: (exposure) => {
        const kind = exposure.distinctId.replace(/^user-hook-/, '');
        const e = exposure as unknown as Record<string, unknown>;
        if (kind === 'null') e.events = null;
        if (kind === 'string') e.events = 'abc';
        if (kind === 'nameless') for (const event of exposure.events) event.event = '';
        if (kind === 'emptied') exposure.events.length = 0;
        if (kind === 'no-profile') e.profileUpdate = null;
        return undefined;
      },
    });
    const before = instrumentation.stats().skipped;
    await decideFor(['null', 'string', 'nameless', 'emptied', 'no-profile', 'ok'].map((k) => `user-hook-${k}`));
    const after = instrumentation.stats().skipped;
    const delta = (k: 'invalid_hook_result' | 'dropped_by_hook') => (after[k] ?? 0) - (before[k] ?? 0);
    // Only well-formed events reach Mixpanel; none is nameless.
    expect(server.events.map((e) => [e.event, e.properties.distinct_id])).toEqual([
      ['Experiment Viewed', 'user-hook-ok'],
    ]);
    // Profiles still go where only events were removed.
    expect([...server.profiles.keys()].sort()).toEqual(
      ['emptied', 'nameless', 'null', 'ok', 'string'].map((k) => `user-hook-${k}`),
    );
    expect(delta('invalid_hook_result')).toBe(4); // null, 'abc', nameless, no profile
    expect(delta('dropped_by_hook')).toBe(1); // emptied
  });

  it('a throwing hook warns once per interval, not once per decision', async () => {
    // A fresh instance: the shared one may have warned within the interval already.
    instrumentation.disable();
    const warnings = captureWarnings();
    const inst = new OptimizelyMixpanelInstrumentation({
      ...baseConfig(),
      exposureHook: () => {
        throw new Error('hook failure');
      },
    });
    try {
      const client = createOfflineClient(requireFrom('sdk6')('@optimizely/optimizely-sdk'));
      expect(inst.instrumentClient(client)).toBe(true);
      for (let i = 0; i < 30; i++) client.createUserContext(`user-throwing-${i}`).decide('checkout_redesign');
      await inst.flush();
      client.close();
    } finally {
      await inst.shutdown(100);
      inst.disable();
      instrumentation.enable();
    }
    expect(server.events).toHaveLength(30);
    expect(warnings.filter((w) => w.includes('exposureHook threw'))).toHaveLength(1);
  });

  it('a client whose getOptimizelyConfig throws still exports its decisions, with one warning', async () => {
    const warnings = captureWarnings();
    instrument();
    const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
    const client = createOfflineClient(sdk);
    client.getOptimizelyConfig = () => {
      throw new Error('config unavailable');
    };
    for (let i = 0; i < 100; i++) client.createUserContext(`user-noconfig-${i}`).decide('checkout_redesign');
    await instrumentation.flush();
    client.close();
    expect(server.events).toHaveLength(100);
    expect(warnings.filter((w) => w.includes('getOptimizelyConfig() threw'))).toHaveLength(1);
  });

  it('an invalid optional setting warns once by name, without its value, and its default applies', async () => {
    process.env.OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS = '30m';
    process.env.OPTIMIZELY_MIXPANEL_EVENT_FORMAT = TOKEN; // a secret pasted into the wrong variable
    let warnings: string[] = [];
    try {
      let created: OptimizelyMixpanelInstrumentation | undefined;
      expect(() => {
        created = new OptimizelyMixpanelInstrumentation({ ...baseConfig(), enabled: false });
      }).not.toThrow();
      expect(() => created?.setConfig({ ...baseConfig(), enabled: false })).not.toThrow();
      warnings = captureWarnings();
      expect(() => instrument()).not.toThrow();
      instrument();
      await decideFor(['user-config-1']);
      await decideFor(['user-config-1']); // the default window still deduplicates
      expect(server.events.map((e) => [e.event, e.properties.distinct_id])).toEqual([
        ['Experiment Viewed', 'user-config-1'],
      ]);
    } finally {
      delete process.env.OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS;
      delete process.env.OPTIMIZELY_MIXPANEL_EVENT_FORMAT;
    }
    expect(warnings.filter((w) => w.includes('OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('OPTIMIZELY_MIXPANEL_EVENT_FORMAT'))).toHaveLength(1);
    expect(warnings.join('\n')).not.toContain('30m');
    expect(warnings.join('\n')).not.toContain(TOKEN);
  });

  it('only a missing token or an unusable host turns export off, and the host is not echoed', async () => {
    const warnings = captureWarnings();
    process.env.MIXPANEL_API_HOST = 'not a url with a secret-ish-value';
    try {
      const inst = new OptimizelyMixpanelInstrumentation({ token: TOKEN, enabled: false });
      expect(inst.instrumentClient(createOfflineClient(requireFrom('sdk6')('@optimizely/optimizely-sdk')))).toBe(true);
      expect(inst.exporter).toBeUndefined();
    } finally {
      delete process.env.MIXPANEL_API_HOST;
    }
    process.env.OPTIMIZELY_MIXPANEL_REGION = 'mars';
    try {
      const inst = new OptimizelyMixpanelInstrumentation({ token: TOKEN, enabled: false });
      inst.instrumentClient(createOfflineClient(requireFrom('sdk6')('@optimizely/optimizely-sdk')));
      expect(inst.exporter).toBeUndefined();
    } finally {
      delete process.env.OPTIMIZELY_MIXPANEL_REGION;
    }
    expect(warnings.join('\n')).toMatch(/MIXPANEL_API_HOST/);
    expect(warnings.join('\n')).toMatch(/OPTIMIZELY_MIXPANEL_REGION/);
    expect(warnings.join('\n')).not.toContain('secret-ish-value');
    expect(warnings.join('\n')).not.toContain('mars');
  });

  it('hashes context ids with a keyed HMAC: stable across a fleet sharing a token, not a plain SHA-256', () => {
    const ids = (config: OptimizelyMixpanelInstrumentationConfig) => {
      instrument({ spanEvents: true, ...config });
      spans.reset();
      const sdk: AnySdk = requireFrom('sdk6')('@optimizely/optimizely-sdk');
      const client = createOfflineClient(sdk);
      inSpan('GET /id', () => client.createUserContext('user-123').decide('checkout_redesign'));
      client.close();
      return spans.getFinishedSpans()[0]?.events[0]?.attributes?.['feature_flag.context.id'];
    };
    const first = ids({});
    const plain = createHash('sha256').update('user-123').digest('hex').slice(0, 32);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(first).not.toBe(plain);
    // Another instance of the fleet (same token) derives the same id with no setting.
    expect(ids({})).toBe(first);
    expect(ids({ token: 'another-project-token' })).not.toBe(first);
    const keyed = ids({ contextIdKey: 'a-key-of-our-own' });
    expect(keyed).toBe(createHmac('sha256', 'a-key-of-our-own').update('user-123').digest('hex').slice(0, 32));
  });
});
