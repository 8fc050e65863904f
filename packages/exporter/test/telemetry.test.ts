import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { context, diag, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OtlpReceiver } from '@optimizely-mixpanel/local-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createExporter, exposures, FAST_RETRY, startServer } from './helpers.js';

function tracing() {
  const spans = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  return { spans, provider, tracer: provider.getTracer('app') };
}

function metering() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async () => {
    const { resourceMetrics } = await reader.collect();
    const points: Record<string, Array<{ attributes: Record<string, unknown>; value: unknown }>> = {};
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        points[metric.descriptor.name] = metric.dataPoints.map((p) => ({
          attributes: p.attributes,
          value: p.value,
        }));
      }
    }
    return points;
  };
  return { provider, collect };
}

const sum = (points: Array<{ value: unknown }> | undefined) =>
  (points ?? []).reduce((n, p) => n + (typeof p.value === 'number' ? p.value : 0), 0);

// Applications get a context manager from their SDK; these tests register one themselves.
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});
afterEach(() => {
  diag.disable();
});

describe('MixpanelExporter telemetry', () => {
  it('emits one CLIENT span per request, linked to the spans that made the exposures', async () => {
    const server = await startServer();
    server.injectFault('503', { times: 1, path: '/track' });
    const { spans, provider, tracer } = tracing();
    const exporter = createExporter(server, { tracerProvider: provider, flushIntervalMs: 60_000 });

    const requestSpans = [tracer.startSpan('GET /a'), tracer.startSpan('GET /b')];
    const batch = exposures(2);
    requestSpans.forEach((span, i) => {
      context.with(trace.setSpan(context.active(), span), () => exporter.export(batch[i]!));
      span.end();
    });
    await exporter.flush();

    const exportSpans = spans
      .getFinishedSpans()
      .filter((s) => s.instrumentationScope.name === '@optimizely-mixpanel/exporter');
    const track = exportSpans.filter((s) => s.name === 'POST /track');
    expect(track).toHaveLength(2);
    const [failed, retried] = track;
    expect(failed?.kind).toBe(SpanKind.CLIENT);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 503,
      'server.address': '127.0.0.1',
      'mixpanel.endpoint': '/track',
      'mixpanel.records.count': 2,
      'mixpanel.attempt': 1,
      'error.type': '503',
    });
    expect(failed?.attributes['mixpanel.retry.delay_ms']).toBeGreaterThanOrEqual(FAST_RETRY.initialDelayMs);
    expect(failed?.events.map((e) => e.name)).toContain('exception');
    expect(retried?.attributes).toMatchObject({ 'http.response.status_code': 200, 'http.request.resend_count': 1 });
    expect(retried?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(retried?.attributes['http.request.body.size']).toBeGreaterThan(100);
    // Export spans start their own traces and link back to both request spans.
    expect(retried?.parentSpanContext).toBeUndefined();
    expect(retried?.links.map((l) => l.context.spanId).sort()).toEqual(
      requestSpans.map((s) => s.spanContext().spanId).sort(),
    );
    expect(exportSpans.find((s) => s.name === 'POST /engage')?.links).toHaveLength(2);
  });

  it('records timeouts as span errors', async () => {
    const server = await startServer();
    server.injectFault('hang', { times: 1, path: '/engage' });
    const { spans, provider } = tracing();
    const exporter = createExporter(server, { tracerProvider: provider, requestTimeoutMs: 100 });
    exporter.export(exposures(1)[0]!);
    await exporter.flush();
    const engage = spans.getFinishedSpans().filter((s) => s.name === 'POST /engage');
    expect(engage[0]?.attributes['error.type']).toBe('timeout');
    expect(engage[0]?.status.message).toMatch(/timed out after 100 ms/);
    // The retry succeeds (on a busy machine a retry may time out too: only the last must succeed).
    expect(engage.at(-1)?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('names a failed connection by its socket code', async () => {
    const server = await startServer();
    // A loopback port with nothing listening: taken, then freed.
    const free = createNetServer();
    free.listen(0, '127.0.0.1');
    await once(free, 'listening');
    const { port } = free.address() as AddressInfo;
    await new Promise((resolve) => free.close(resolve));
    const { spans, provider } = tracing();
    const exporter = createExporter(server, {
      apiHost: `http://127.0.0.1:${port}`,
      tracerProvider: provider,
      retry: { ...FAST_RETRY, maxAttempts: 1 },
      spool: false,
    });
    exporter.export(exposures(1)[0]!);
    await exporter.flush();
    const track = spans.getFinishedSpans().find((s) => s.name === 'POST /track');
    expect(track?.attributes['error.type']).toBe('ECONNREFUSED');
    expect(exporter.stats().dropped.retries_exhausted).toBe(2);
  });

  it('counts queued, exported, retried, dropped by reason, skipped, and request durations', async () => {
    const server = await startServer();
    server.injectFault('500', { times: 1, path: '/track' });
    const { provider, collect } = metering();
    const exporter = createExporter(server, { meterProvider: provider, maxQueueSize: 10, flushIntervalMs: 60_000 });
    for (const exposure of exposures(6)) exporter.export(exposure);
    exporter.countSkipped('duplicate');
    exporter.countSkipped('duplicate');
    exporter.countSkipped('no_rule');
    await exporter.flush();

    const points = await collect();
    expect(sum(points['optimizely_mixpanel.records.queued'])).toBe(10);
    expect(sum(points['optimizely_mixpanel.records.exported'])).toBe(10);
    expect(sum(points['optimizely_mixpanel.records.retried'])).toBe(5);
    const dropped = points['optimizely_mixpanel.records.dropped'] ?? [];
    expect(dropped.every((p) => p.attributes['mixpanel.drop.reason'] === 'queue_full')).toBe(true);
    expect(sum(dropped)).toBe(2);
    const skipped = points['optimizely_mixpanel.exposures.skipped'] ?? [];
    expect(skipped.find((p) => p.attributes['optimizely.skip.reason'] === 'duplicate')?.value).toBe(2);
    expect(skipped.find((p) => p.attributes['optimizely.skip.reason'] === 'no_rule')?.value).toBe(1);
    const durations = points['optimizely_mixpanel.request.duration'] ?? [];
    expect(durations.reduce((n, p) => n + ((p.value as { count: number }).count ?? 0), 0)).toBe(3);
    expect(points['optimizely_mixpanel.queue.size']?.every((p) => p.value === 0)).toBe(true);
  });

  it('uses the globally registered tracer and meter providers when none are given', async () => {
    const server = await startServer();
    const { spans, provider } = tracing();
    const { provider: meterProvider, collect } = metering();
    trace.setGlobalTracerProvider(provider);
    metrics.setGlobalMeterProvider(meterProvider);
    try {
      const exporter = createExporter(server);
      for (const exposure of exposures(10)) exporter.export(exposure);
      await exporter.flush();
    } finally {
      trace.disable();
      metrics.disable();
    }
    expect(
      spans
        .getFinishedSpans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['POST /engage', 'POST /track']);
    expect(sum((await collect())['optimizely_mixpanel.records.exported'])).toBe(20);
  });

  it('export spans reach an OTLP/HTTP receiver on 127.0.0.1', async () => {
    const receiver = new OtlpReceiver();
    await receiver.start();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }))],
    });
    const server = await startServer();
    const exporter = createExporter(server, { tracerProvider: provider });
    const appSpan = provider.getTracer('app').startSpan('GET /checkout');
    context.with(trace.setSpan(context.active(), appSpan), () => exporter.export(exposures(1)[0]!));
    appSpan.end();
    await exporter.flush();
    await provider.forceFlush();
    await receiver.waitFor((spans) => spans.some((s) => s.name === 'POST /track'));
    const track = receiver.spans.find((s) => s.name === 'POST /track');
    expect(track?.attributes['mixpanel.records.count']).toBe(1);
    expect(track?.links).toEqual([{ traceId: appSpan.spanContext().traceId, spanId: appSpan.spanContext().spanId }]);
    await provider.shutdown();
    await receiver.stop();
  });
});
