import Mixpanel from 'mixpanel';
import { describe, expect, it } from 'vitest';
import { MixpanelClientTransport } from '../src/index.js';
import { createExporter, exposures, startServer, TOKEN } from './helpers.js';

describe('bring-your-own mixpanel client', () => {
  function client(url: string) {
    delete process.env.HTTP_PROXY;
    delete process.env.HTTPS_PROXY;
    return Mixpanel.init(TOKEN, { host: new URL(url).host, protocol: 'http' });
  }

  it('sends through track_batch and people.set', async () => {
    const server = await startServer();
    const transport = new MixpanelClientTransport(client(server.url));
    const exporter = createExporter(server, { transport });
    for (const exposure of exposures(70)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(stats.exported).toBe(140);
    expect(server.events).toHaveLength(70);
    expect(server.events[0]?.properties).toMatchObject({ token: TOKEN, flag_key: 'checkout_redesign' });
    // The client's own wire: batches of at most 50 events, one GET /engage per profile.
    const track = server.requests.filter((r) => r.path === '/track');
    expect(track.map((r) => r.records).sort()).toEqual([20, 50]);
    expect(server.requests.filter((r) => r.path === '/engage' && r.method === 'GET')).toHaveLength(70);
    expect(server.profiles.size).toBe(70);
  });

  it('adds one abort listener per request, not one per people.set', async () => {
    const server = await startServer();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const exporter = createExporter(server, { transport: new MixpanelClientTransport(client(server.url)) });
      for (const exposure of exposures(30)) exporter.export(exposure);
      const stats = await exporter.flush();
      expect(stats.exported).toBe(60);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('adds the timeout and the retries the client lacks', async () => {
    const server = await startServer();
    server.injectFault('hang', { times: 1, path: '/track' });
    server.injectFault('500', { times: 1, path: '/track' });
    const transport = new MixpanelClientTransport(client(server.url));
    const exporter = createExporter(server, { transport, requestTimeoutMs: 500 });
    for (const exposure of exposures(3)) exporter.export(exposure);
    const stats = await exporter.flush();
    // The client reads a 500 whose body is not "1" as an error: retried like the hang
    // (a busy machine may time out another attempt).
    expect(server.requests.filter((r) => r.path === '/track' && r.fault).map((r) => r.fault)).toEqual(['hang', '500']);
    expect(stats.retried).toBeGreaterThanOrEqual(6);
    expect(server.events).toHaveLength(3);
  });
});
