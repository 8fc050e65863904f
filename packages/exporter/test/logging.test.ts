import { DiagLogLevel, diag } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExporter, exposures, startServer } from './helpers.js';

let logs: string[] = [];
beforeEach(() => {
  logs = [];
  const capture = (...args: unknown[]) => logs.push(args.map(String).join(' '));
  diag.setLogger({ error: capture, warn: capture, info: capture, debug: capture, verbose: capture }, DiagLogLevel.ALL);
});
afterEach(() => diag.disable());

describe('what the exporter logs', () => {
  it('a 401 is logged once per 10 s, however many requests it refuses', async () => {
    const server = await startServer({ token: 'another-token' });
    const exporter = createExporter(server, { maxBatchSize: 1 });
    for (const exposure of exposures(10)) exporter.export(exposure);
    const stats = await exporter.flush();
    expect(stats.dropped.unauthorized).toBe(20);
    expect(server.requests.length).toBeGreaterThan(10);
    expect(logs.filter((line) => line.includes('refused the credentials'))).toHaveLength(1);
  });

  it('repeated failures of one kind log once', async () => {
    const server = await startServer();
    server.injectFault('redirect=307', { times: Number.POSITIVE_INFINITY, path: '/track' });
    const exporter = createExporter(server, { maxBatchSize: 1 });
    for (const exposure of exposures(10)) exporter.export(exposure);
    await exporter.flush();
    expect(logs.filter((line) => line.includes('redirected (HTTP 307'))).toHaveLength(1);
    expect(logs.filter((line) => line.includes('dropped'))).toHaveLength(1);
  });

  it('the shutdown report names every reason records were dropped for, events and profile updates', async () => {
    const server = await startServer();
    server.injectFault('hang', { times: Number.POSITIVE_INFINITY, path: '/engage' });
    server.injectFault('400', { times: 1, path: '/track' });
    const exporter = createExporter(server, { maxQueueSize: 16, flushIntervalMs: 10, requestTimeoutMs: 60_000 });
    for (const exposure of exposures(5)) exporter.export(exposure);
    await server.waitFor(() => exporter.stats().dropped.rejected === 5);
    for (const exposure of exposures(20, 5)) exporter.export(exposure);
    const stats = await exporter.shutdown({ timeoutMs: 50 });
    expect(stats.droppedByRecordType.event.rejected).toBe(5);
    expect(stats.droppedByRecordType.profile.shutdown).toBeGreaterThan(0);
    expect(stats.droppedByRecordType.profile.queue_full + stats.droppedByRecordType.event.queue_full).toBe(
      stats.dropped.queue_full,
    );
    const report = logs.find((line) => line.includes('not delivered'));
    expect(report).toBeDefined();
    for (const [type, label] of [
      ['event', 'events'],
      ['profile', 'profile updates'],
    ] as const) {
      for (const [reason, count] of Object.entries(stats.droppedByRecordType[type])) {
        if (count > 0) expect(report).toMatch(new RegExp(`${label}: [^;]*${reason} ${count}`));
      }
    }
  });
});
