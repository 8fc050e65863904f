import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createExporter, exposures, startServer } from './helpers.js';

/** A plain HTTP server on 127.0.0.1 that answers `1` to everything and counts what reaches it. */
async function otherHost() {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    res.end('1');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, hits, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('MixpanelExporter under faults', () => {
  it('server down for a while, then up: nothing lost, nothing double-counted', async () => {
    const server = await startServer();
    const exporter = createExporter(server, {
      retry: { initialDelayMs: 50, maxDelayMs: 200, maxJitterMs: 20, maxAttempts: 30 },
    });
    for (const exposure of exposures(100)) exporter.export(exposure);
    await server.waitFor(() => server.events.length === 100);
    await server.stop();
    for (const exposure of exposures(300, 100)) exporter.export(exposure);
    // Both batches (300 events, 300 profile updates) fail twice while it is down.
    await server.waitFor(() => exporter.stats().retried >= 1200);
    await server.start();
    const stats = await exporter.flush();

    expect(server.events).toHaveLength(400);
    expect(new Set(server.events.map((e) => e.properties.distinct_id)).size).toBe(400);
    expect(server.profiles.size).toBe(400);
    expect(stats.exported).toBe(800);
    expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);
  });

  it('rides out a 429 storm: waits the larger of the backoff and Retry-After, capped at maxDelayMs', async () => {
    const server = await startServer();
    server.injectFault('429:retry-after=0', { times: 3, path: '/track' });
    server.injectFault('429:retry-after=1', { times: 1, path: '/track' });
    server.injectFault('429:retry-after=3600', { times: 1, path: '/track' });
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const exporter = createExporter(server, {
      tracerProvider,
      retry: { initialDelayMs: 20, maxDelayMs: 1500, maxJitterMs: 0, maxAttempts: 8 },
    });
    for (const exposure of exposures(20)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(server.events).toHaveLength(20);
    expect(stats.retried).toBe(5 * 20);
    expect(server.requests.filter((r) => r.path === '/track').map((r) => r.status)).toEqual([
      429, 429, 429, 429, 429, 200,
    ]);
    const delays = spans
      .getFinishedSpans()
      .filter((s) => s.name === 'POST /track')
      .map((s) => s.attributes['mixpanel.retry.delay_ms']);
    // Retry-After: 0 never shortens the backoff; 1 s outlasts it; an hour is capped at maxDelayMs.
    expect(delays).toEqual([20, 40, 80, 1000, 1500, undefined]);
  });

  it('a hung server makes requests time out, and the retry delivers', async () => {
    const server = await startServer();
    server.injectFault('hang', { times: 2, path: '/track' });
    const exporter = createExporter(server, { requestTimeoutMs: 500 });
    for (const exposure of exposures(5)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(server.events).toHaveLength(5);
    expect(server.requests.filter((r) => r.fault === 'hang')).toHaveLength(2);
    // Both hung attempts timed out and were retried (a busy machine may time out another).
    expect(stats.retried).toBeGreaterThanOrEqual(10);
    expect(stats.dropped.retries_exhausted).toBe(0);
  });

  it('connection resets and 5xx are retried', async () => {
    const server = await startServer();
    server.injectFault('reset', { times: 1, path: '/engage' });
    server.injectFault('503', { times: 1, path: '/engage' });
    server.injectFault('500', { times: 1, path: '/engage' });
    const exporter = createExporter(server);
    for (const exposure of exposures(5)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(server.profiles.size).toBe(5);
    expect(stats.retried).toBe(15);
    expect(stats.exported).toBe(10);
  });

  it('a 400 on one batch is dropped, counted, not retried, and does not block the rest', async () => {
    const server = await startServer();
    const exporter = createExporter(server, { maxBatchSize: 10, flushIntervalMs: 60_000 });
    const [bad, ...good] = exposures(30);
    if (!bad) throw new Error('fixture');
    // One invalid record poisons its batch at /track, which takes batches whole.
    exporter.enqueueEvent({
      ...bad.events[0]!,
      properties: { ...bad.events[0]!.properties, $insert_id: 'not valid!' },
    });
    for (const exposure of good.slice(0, 9)) exporter.enqueueEvent(exposure.events[0]!);
    for (const exposure of good.slice(9)) exporter.enqueueEvent(exposure.events[0]!);
    const stats = await exporter.flush();
    expect(stats.dropped.rejected).toBe(10);
    expect(stats.retried).toBe(0);
    expect(server.events).toHaveLength(20);
    expect(server.requests.filter((r) => r.path === '/track').map((r) => r.status)).toEqual([400, 200, 200]);
  });

  it('401 is reported as unauthorized and not retried', async () => {
    const server = await startServer({ token: 'another-token' });
    const exporter = createExporter(server);
    for (const exposure of exposures(3)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(stats.dropped.unauthorized).toBe(6);
    expect(server.requests).toHaveLength(2);
  });

  it('413 splits the batch until it fits', async () => {
    const server = await startServer();
    server.injectFault('413', { times: 2, path: '/track' });
    const exporter = createExporter(server, { flushIntervalMs: 60_000 });
    for (const exposure of exposures(8)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(server.events).toHaveLength(8);
    expect(stats.dropped.too_large).toBe(0);
    // 8 refused, its first half (4) refused, then 2 + 2 and the second half of 4 fit.
    const track = server.requests.filter((r) => r.path === '/track');
    expect(track.map((r) => r.status)).toEqual([413, 413, 200, 200, 200]);
    expect(track.slice(2).map((r) => r.records)).toEqual([2, 2, 4]);
  });

  it('gives up after maxAttempts and counts the records', async () => {
    const server = await startServer();
    server.injectFault('500', { times: Number.POSITIVE_INFINITY, path: '/track' });
    const exporter = createExporter(server, {
      retry: { ...{ initialDelayMs: 5, maxDelayMs: 10, maxJitterMs: 0 }, maxAttempts: 3 },
    });
    for (const exposure of exposures(4)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(stats.dropped.retries_exhausted).toBe(4);
    expect(server.requests.filter((r) => r.path === '/track')).toHaveLength(3);
  });

  it('shutdown with a full queue and a hung server ends by its deadline and counts what it drops', async () => {
    const server = await startServer();
    server.injectFault('hang', { times: Number.POSITIVE_INFINITY });
    const exporter = createExporter(server, { requestTimeoutMs: 60_000, flushIntervalMs: 10 });
    for (const exposure of exposures(1000)) exporter.export(exposure);
    await server.waitFor(() => server.requests.length >= 2);
    // Requests would wait 60 s for the hung server: only the deadline can end this shutdown.
    const stats = await exporter.shutdown({ timeoutMs: 300 });
    expect(stats.exported).toBe(0);
    expect(stats.dropped.shutdown).toBe(2000);
    expect(stats.pending).toBe(0);
    expect(exporter.export(exposures(1)[0]!)).toBe(false);
    expect(exporter.stats().dropped.shutdown).toBe(2002);
  });

  it('drops and counts what overflows the bounded queue', async () => {
    const server = await startServer();
    server.injectFault('hang', { times: Number.POSITIVE_INFINITY });
    const exporter = createExporter(server, { maxQueueSize: 100, flushIntervalMs: 60_000, requestTimeoutMs: 60_000 });
    let accepted = 0;
    for (const exposure of exposures(200)) if (exporter.export(exposure)) accepted++;
    const stats = exporter.stats();
    expect(stats.queued).toBe(100);
    expect(stats.dropped.queue_full).toBe(300);
    expect(accepted).toBe(50);
  });

  it('holds maxQueueBytes with large records during an outage, in-flight batches included', async () => {
    const server = await startServer();
    server.injectFault('hang', { times: Number.POSITIVE_INFINITY });
    const maxQueueBytes = 1_000_000;
    const exporter = createExporter(server, { maxQueueBytes, requestTimeoutMs: 60_000, flushIntervalMs: 20 });
    const payload = 'x'.repeat(50_000);
    const large = (offset: number, count: number) =>
      exposures(count, offset).map((e) => ({ ...e.events[0]!, properties: { ...e.events[0]!.properties, payload } }));
    let accepted = 0;
    for (const event of large(0, 10)) if (exporter.enqueueEvent(event)) accepted++;
    // The first records are now in a request the server never answers.
    await server.waitFor(() => server.requests.length > 0);
    for (const event of large(10, 490)) if (exporter.enqueueEvent(event)) accepted++;
    expect(accepted).toBeGreaterThan(5);
    expect(accepted * payload.length).toBeLessThanOrEqual(maxQueueBytes);
    const stats = exporter.stats();
    expect(stats.queued).toBe(accepted);
    expect(stats.dropped.queue_full).toBe(500 - accepted);
  });

  it.each([301, 302, 307, 308])(
    'never follows a %i redirect: counted as redirected, naming the host',
    async (status) => {
      const server = await startServer();
      const elsewhere = await otherHost();
      server.injectFault(`redirect=${status}:location=http://${elsewhere.host}/track`, {
        times: Number.POSITIVE_INFINITY,
        path: '/track',
      });
      const spans = new InMemorySpanExporter();
      const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
      const exporter = createExporter(server, { tracerProvider });
      for (const exposure of exposures(3)) exporter.export(exposure);
      const stats = await exporter.flush();
      await elsewhere.close();
      expect(elsewhere.hits).toEqual([]);
      expect(stats.exported).toBe(3); // the profile updates
      expect(stats.dropped.redirected).toBe(3);
      expect(stats.retried).toBe(0);
      const track = spans.getFinishedSpans().find((s) => s.name === 'POST /track');
      expect(track?.attributes['http.response.status_code']).toBe(status);
      expect(track?.status.message).toContain(`redirected to ${elsewhere.host}`);
    },
  );

  it("a 200 that is not Mixpanel's answer (a proxy, a captive portal) is retried, not dropped", async () => {
    const server = await startServer();
    server.injectFault('html', { times: 2, path: '/track' });
    server.injectFault('empty', { times: 1, path: '/engage' });
    const exporter = createExporter(server);
    for (const exposure of exposures(10)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(stats.dropped.rejected).toBe(0);
    expect(stats.retried).toBe(2 * 10 + 10);
    expect(stats.exported).toBe(20);
    expect(server.events).toHaveLength(10);
    expect(server.profiles.size).toBe(10);
  });

  it('drops and counts a record JSON cannot encode, and delivers the rest', async () => {
    const server = await startServer();
    const exporter = createExporter(server, { flushIntervalMs: 60_000 });
    const [bad, ...good] = exposures(3);
    if (!bad) throw new Error('fixture');
    exporter.enqueueEvent({ ...bad.events[0]!, properties: { ...bad.events[0]!.properties, big: 1n as never } });
    for (const exposure of good) exporter.enqueueEvent(exposure.events[0]!);
    const stats = await exporter.flush();
    expect(stats.dropped.unserializable).toBe(1);
    expect(server.events.map((e) => e.properties.distinct_id)).toEqual(['user-1', 'user-2']);
  });
});
