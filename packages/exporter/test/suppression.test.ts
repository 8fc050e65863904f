import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import type { ExporterStats } from '../src/index.js';
import { startServer } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/export-under-http-instrumentation.mjs', import.meta.url));

interface Output {
  stats: Record<'fetch' | 'client', ExporterStats>;
  spans: Array<{ name: string; kind: number; scope: string; url?: string }>;
}

function run(url: string): Promise<Output> {
  const env = { ...process.env };
  delete env.HTTP_PROXY;
  delete env.HTTPS_PROXY;
  const child = spawn(process.execPath, [FIXTURE, url], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(stdout) as Output) : reject(new Error(`exit ${code}: ${stderr}`)),
    ),
  );
}

describe('with the real HTTP and undici instrumentations active', () => {
  it('export requests make no HTTP spans, so they cannot loop, while the application stays traced', async () => {
    const server = await startServer({ token: 'test-token' });
    const { stats, spans } = await run(server.url);
    for (const transport of ['fetch', 'client'] as const) expect(stats[transport].exported).toBe(6);
    const clientSpans = spans.filter((s) => s.kind === SpanKind.CLIENT);
    const ingestion = /\/(track|engage|import)\b/;
    // The instrumentations are active: the application's own fetch and mixpanel.track are traced.
    expect(clientSpans.some((s) => s.scope.includes('undici') && s.url?.includes('/_local/summary'))).toBe(true);
    expect(clientSpans.some((s) => s.scope.includes('instrumentation-http') && ingestion.test(s.url ?? ''))).toBe(true);
    // Ours are only the exporter's own spans: 2 transports x (/track + /engage).
    const ours = clientSpans.filter((s) => s.scope === '@optimizely-mixpanel/exporter');
    expect(ours).toHaveLength(4);
    const instrumented = clientSpans.filter(
      (s) => s.scope !== '@optimizely-mixpanel/exporter' && ingestion.test(s.url ?? ''),
    );
    // Only the application's own mixpanel.track, never a request of the exporter.
    expect(instrumented).toHaveLength(1);
  });
});
