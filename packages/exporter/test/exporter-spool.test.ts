import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createExporter, exposures, startServer, TOKEN } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  diag.disable();
  while (dirs.length > 0) fs.rmSync(dirs.pop() as string, { recursive: true, force: true });
});

function spoolDir(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), 'exporter-spool-'));
  dirs.push(dir);
  return join(dir, 'spool');
}

function captureWarnings(): string[] {
  const warnings: string[] = [];
  const push = (...args: unknown[]) => warnings.push(args.join(' '));
  diag.setLogger(
    { warn: push, error: push, info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  return warnings;
}

function spoolFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith('.ndjson')) : [];
}

/** The identity Mixpanel dedups on. */
function keys(events: ReadonlyArray<{ event: string; properties: Record<string, unknown> }>): string[] {
  return events.map((e) =>
    JSON.stringify([e.event, e.properties.time, e.properties.distinct_id, e.properties.$insert_id]),
  );
}

describe('MixpanelExporter with a spool', () => {
  it('an outage longer than the queue: the overflow goes to disk and is delivered once Mixpanel is back', async () => {
    const server = await startServer();
    const dir = spoolDir();
    await server.stop();
    const exporter = createExporter(server, {
      maxQueueSize: 100,
      spool: { dir },
      retry: { initialDelayMs: 50, maxDelayMs: 100, maxJitterMs: 10, maxAttempts: 1000 },
    });
    const all = exposures(300);
    for (const exposure of all) expect(exporter.export(exposure)).toBe(true);
    await expect.poll(() => exporter.stats().spooled, { timeout: 10_000 }).toBe(600 - 100);
    expect(spoolFiles(dir).length).toBeGreaterThan(0);
    await server.start();
    const stats = await exporter.flush();
    expect(stats.dropped.queue_full).toBe(0);
    expect(stats.replayed).toBe(500);
    expect(server.events).toHaveLength(300);
    expect(server.store.duplicates).toBe(0);
    expect(server.profiles.size).toBe(300);
    expect(new Set(keys(server.events))).toEqual(
      new Set(keys(all.flatMap((e) => e.events) as Array<{ event: string; properties: Record<string, unknown> }>)),
    );
    expect(spoolFiles(dir)).toEqual([]);
    expect(fs.readdirSync(join(dir, 'claimed'))).toEqual([]);
  });

  it('shutdown past its deadline spools what is left; the next exporter sends it unchanged', async () => {
    const server = await startServer();
    const dir = spoolDir();
    server.injectFault('hang', { times: Infinity, path: '/track' });
    const warnings = captureWarnings();
    const first = createExporter(server, { spool: { dir } });
    const all = exposures(50);
    for (const exposure of all) first.export(exposure);
    const stats = await first.shutdown({ timeoutMs: 200 });
    expect(stats.dropped.shutdown, warnings.join('\n')).toBe(0);
    expect(stats.spooled).toBeGreaterThanOrEqual(50); // the events at least; profiles may have gone through
    const files = spoolFiles(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) expect(fs.readFileSync(join(dir, name), 'utf8')).not.toContain(TOKEN);

    server.clearFaults();
    const second = createExporter(server, { spool: { dir } });
    await second.flush();
    // A request aborted at the deadline may still have reached the server: Mixpanel's dedup keeps one.
    expect(server.events).toHaveLength(50);
    expect(new Set(keys(server.events))).toEqual(
      new Set(keys(all.flatMap((e) => e.events) as Array<{ event: string; properties: Record<string, unknown> }>)),
    );
  });

  it('persistSync writes queued and in-flight records at once (for exit listeners)', async () => {
    const server = await startServer();
    const dir = spoolDir();
    server.injectFault('hang', { times: 1, path: '/track' });
    const exporter = createExporter(server, { spool: { dir }, flushIntervalMs: 10 });
    for (const exposure of exposures(10)) exporter.export(exposure);
    await expect.poll(() => server.requests.some((r) => r.path === '/track')).toBe(true);
    for (const exposure of exposures(5, 10)) exporter.export(exposure);
    const result = exporter.persistSync();
    expect(result.dir).toBe(dir);
    // 5 queued events + 10 in flight copies, and whatever profile updates were still waiting.
    expect(result.spooled).toBeGreaterThanOrEqual(15);
    expect(result.dropped).toEqual({});

    const next = createExporter(server, { spool: { dir } });
    await next.flush();
    expect(new Set(server.events.map((e) => e.properties.distinct_id)).size).toBe(15);
    expect(server.store.duplicates).toBe(0);
  });

  it('a full spool counts what it refuses as spool_full', async () => {
    const server = await startServer();
    await server.stop();
    const exporter = createExporter(server, { maxQueueSize: 10, spool: { dir: spoolDir(), maxBytes: 8 * 1024 } });
    for (const exposure of exposures(200)) exporter.export(exposure);
    await expect.poll(() => exporter.stats().pending).toBe(10);
    const stats = exporter.stats();
    expect(stats.spooled).toBeGreaterThan(0);
    expect(stats.dropped.spool_full).toBeGreaterThan(0);
    expect(stats.spooled + stats.dropped.spool_full + 10).toBe(400);
  });

  it('a folder it cannot use: one warning, and the queue behaves as without a spool', async () => {
    const warnings = captureWarnings();
    const server = await startServer();
    await server.stop();
    const file = join(spoolDir(), '..', 'not-a-folder');
    fs.writeFileSync(file, '');
    const exporter = createExporter(server, { maxQueueSize: 10, spool: { dir: join(file, 'spool') } });
    for (const exposure of exposures(50)) exporter.export(exposure);
    expect(exporter.stats().dropped.queue_full).toBe(90);
    expect(exporter.persistSync().spooled).toBe(0);
    expect(warnings.filter((w) => /spool unavailable/.test(w))).toHaveLength(1);
  });
});
