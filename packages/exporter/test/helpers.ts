import { DecisionPipeline, type Exposure } from '@optimizely-mixpanel/core';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import { afterEach } from 'vitest';
import { MixpanelExporter } from '../src/index.js';
import type { MixpanelExporterConfig } from '../src/types.js';

export const TOKEN = 'test-token-5f1e2d';

/** `count` distinct exposures (one user each) from real-shaped flag notifications. */
export function exposures(count: number, offset = 0): Exposure[] {
  const pipeline = new DecisionPipeline();
  const out: Exposure[] = [];
  for (let i = offset; i < offset + count; i++) {
    const { exposure } = pipeline.handle({
      type: 'flag',
      userId: `user-${i}`,
      attributes: {},
      decisionInfo: {
        flagKey: 'checkout_redesign',
        enabled: true,
        variationKey: i % 2 === 0 ? 'control' : 'variation_a',
        ruleKey: 'checkout_redesign_ab',
        decisionEventDispatched: true,
        experimentId: '40000000001',
        variationId: i % 2 === 0 ? '70000000001' : '70000000002',
      },
    });
    if (!exposure) throw new Error('expected an exposure');
    out.push(exposure);
  }
  return out;
}

/** Fast retries for tests: the schedule's shape stays, the waits shrink. */
export const FAST_RETRY = { initialDelayMs: 20, maxDelayMs: 200, maxJitterMs: 10 };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A local Mixpanel server, stopped after the test. */
export async function startServer(options: ConstructorParameters<typeof LocalMixpanelServer>[0] = {}) {
  const server = new LocalMixpanelServer({ token: TOKEN, ...options });
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

/** An exporter pointed at `server`, shut down after the test. */
export function createExporter(server: LocalMixpanelServer, config: Partial<MixpanelExporterConfig> = {}) {
  const exporter = new MixpanelExporter({
    token: TOKEN,
    apiHost: server.url,
    retry: FAST_RETRY,
    flushIntervalMs: 50,
    // The default: a busy machine must not turn slow answers into retries that tests would count.
    requestTimeoutMs: 10_000,
    ...config,
  });
  cleanups.push(() => exporter.shutdown({ timeoutMs: 100 }));
  return exporter;
}
