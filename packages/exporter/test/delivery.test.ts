import { describe, expect, it } from 'vitest';
import { MixpanelExporter, resolveApiHost, type Transport } from '../src/index.js';
import { HttpTransport } from '../src/transport.js';
import { createExporter, exposures, startServer, TOKEN } from './helpers.js';

describe('MixpanelExporter delivery', () => {
  it('delivers events to /track and profile updates to /engage, token added, flush awaited', async () => {
    const server = await startServer();
    const exporter = createExporter(server, { flushIntervalMs: 60_000 });
    for (const exposure of exposures(3)) expect(exporter.export(exposure)).toBe(true);
    const stats = await exporter.flush();

    expect(server.events).toHaveLength(3);
    expect(server.events[0]).toMatchObject({
      event: 'Experiment Viewed',
      endpoint: '/track',
      properties: { distinct_id: 'user-0', flag_key: 'checkout_redesign', variation_key: 'control', token: TOKEN },
    });
    expect(server.profiles.get('user-1')).toEqual({ '[Optimizely] checkout_redesign': 'variation_a' });
    expect(stats).toMatchObject({ queued: 6, exported: 6, pending: 0, retried: 0 });
    expect(server.requests.map((r) => r.path).sort()).toEqual(['/engage', '/track']);
  });

  it('batches up to 2000 records per request and sends partial batches on the interval', async () => {
    const server = await startServer();
    const exporter = createExporter(server, { flushIntervalMs: 30 });
    for (const exposure of exposures(4500)) exporter.export(exposure);
    await server.waitFor(() => server.events.length === 4500 && server.profiles.size === 4500);
    const track = server.requests.filter((r) => r.path === '/track');
    expect(Math.max(...track.map((r) => r.records))).toBe(2000);
    expect(track.reduce((n, r) => n + r.records, 0)).toBe(4500);
    expect(track.length).toBeLessThanOrEqual(4);
  });

  it('sends a full batch after the caller returns, not inside the export() that filled it', async () => {
    const server = await startServer();
    const http = new HttpTransport({ baseUrl: new URL(server.url) });
    const sent: number[] = [];
    const transport: Transport = {
      target: (endpoint) => http.target(endpoint),
      send: (request) => {
        sent.push(request.records);
        return http.send(request);
      },
    };
    const exporter = createExporter(server, { transport, maxBatchSize: 10, flushIntervalMs: 60_000 });
    // Building and writing a request of 2000 records takes milliseconds: never inside one decide().
    for (const exposure of exposures(25)) exporter.export(exposure);
    expect(sent).toEqual([]);
    await Promise.resolve();
    // One batch per queue has left; the rest follows as each answer comes back.
    expect(sent).toEqual([10, 10]);
    const stats = await exporter.flush();
    expect(stats).toMatchObject({ exported: 50, pending: 0 });
    expect(server.events).toHaveLength(25);
  });

  it('splits batches on the byte limit', async () => {
    const server = await startServer();
    const exporter = createExporter(server, { maxBatchBytes: 4096, flushIntervalMs: 60_000 });
    for (const exposure of exposures(40)) exporter.export(exposure);
    await exporter.flush();
    expect(server.events).toHaveLength(40);
    expect(server.requests.filter((r) => r.path === '/track').length).toBeGreaterThan(3);
  });

  it('imports through /import with a service account, gzip and strict=1', async () => {
    const serviceAccount = { username: 'sa.user', secret: 'sa-secret-123', projectId: '42' };
    const server = await startServer({ serviceAccount });
    const exporter = createExporter(server, { eventEndpoint: 'import', serviceAccount });
    for (const exposure of exposures(50)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(stats.exported).toBe(100);
    const imported = server.requests.find((r) => r.path === '/import');
    expect(imported).toMatchObject({ status: 200, contentEncoding: 'gzip', records: 50 });
    expect(server.events.every((e) => e.endpoint === '/import' && e.properties.token === undefined)).toBe(true);
  });

  it('counts records /import rejects under strict=1 and keeps the valid ones', async () => {
    const server = await startServer({ apiSecret: 'secret-abc' });
    const exporter = createExporter(server, { eventEndpoint: 'import', apiSecret: 'secret-abc' });
    const [good, bad] = exposures(2);
    if (!good || !bad) throw new Error('fixture');
    // An event far in the future is refused by /import.
    exporter.enqueueEvent({
      ...bad.events[0]!,
      properties: { ...bad.events[0]!.properties, time: Date.now() + 86_400_000 },
    });
    exporter.enqueueEvent(good.events[0]!);
    const stats = await exporter.flush();
    expect(server.events.map((e) => e.properties.distinct_id)).toEqual(['user-0']);
    expect(stats.exported).toBe(1);
    expect(stats.dropped.rejected).toBe(1);
  });

  it('re-sent events count once at Mixpanel thanks to the deterministic $insert_id', async () => {
    const server = await startServer();
    const exporter = createExporter(server);
    const batch = exposures(10);
    for (const exposure of batch) exporter.export(exposure);
    await exporter.flush();
    for (const exposure of batch) exporter.export(exposure);
    await exporter.flush();
    expect(server.events).toHaveLength(10);
    expect(server.store.duplicates).toBe(10);
  });

  it('resolves hosts: US default, EU and India residency, custom hosts; HTTPS except loopback', () => {
    expect(resolveApiHost(undefined, undefined).href).toBe('https://api.mixpanel.com/');
    expect(resolveApiHost(undefined, 'eu').href).toBe('https://api-eu.mixpanel.com/');
    expect(resolveApiHost(undefined, 'in').href).toBe('https://api-in.mixpanel.com/');
    expect(resolveApiHost('https://proxy.example.com/mixpanel', undefined).href).toBe(
      'https://proxy.example.com/mixpanel/',
    );
    expect(resolveApiHost('http://127.0.0.1:8080', undefined).href).toBe('http://127.0.0.1:8080/');
    expect(resolveApiHost('http://[::1]:8080', undefined).href).toBe('http://[::1]:8080/');
    expect(() => resolveApiHost('http://proxy.example.com', undefined)).toThrow(/must use https/);
    expect(() => resolveApiHost('ftp://x', undefined)).toThrow(/https/);
    expect(() => resolveApiHost('not a url', undefined)).toThrow(/absolute URL/);
    expect(() => resolveApiHost('https://user:pw@proxy.example.com', undefined)).toThrow(/credentials/);
  });

  it('rejects bad configuration with clear errors that never echo the token', () => {
    expect(() => new MixpanelExporter({ token: '' })).toThrow(/project token/);
    expect(() => new MixpanelExporter({ token: TOKEN, eventEndpoint: 'import' })).toThrow(
      /serviceAccount or apiSecret/,
    );
    expect(() => new MixpanelExporter({ token: TOKEN, maxBatchSize: 5000 })).toThrow(/maxBatchSize/);
    try {
      new MixpanelExporter({ token: TOKEN, apiHost: 'http://remote.example.com' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain(TOKEN);
    }
  });
});
