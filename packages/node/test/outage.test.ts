import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spoolFiles, startNode, tempFolder } from './child.js';

/**
 * A 30 s Mixpanel outage at 500 exposures/s (2 records each: 30 000 records,
 * 1.5 times the default queue of 20 000). Time is scaled by OUTAGE_SCALE
 * (default 0.1: a 3 s outage) and so are every bound and delay that time
 * meets: the queue (2 000 records, 3.2 MB), the batch interval, the retry
 * schedule. The outage is still 1.5 times the queue. OUTAGE_SCALE=1 runs it
 * at full scale with the exporter's defaults.
 */
const SCALE = Number(process.env.OUTAGE_SCALE ?? 0.1);
const RATE = 500;
const OUTAGE_EXPOSURES = Math.round(30 * RATE * SCALE);
const TOKEN = 'outage-token-0d4b2c';

let server: LocalMixpanelServer;
beforeAll(async () => {
  server = new LocalMixpanelServer({ token: TOKEN });
  await server.start();
});
afterAll(() => server.stop());

function progress(stdout: string): number {
  const all = [...stdout.matchAll(/^progress (\d+)$/gm)];
  return all.length > 0 ? Number(all[all.length - 1]?.[1]) : 0;
}

describe(`a Mixpanel outage of ${30 * SCALE} s at ${RATE} exposures/s`, () => {
  it('loses nothing: the overflow waits on disk, and each exposure is delivered once', async () => {
    const folder = tempFolder('outage-spool-');
    const spoolDir = `${folder.dir}/spool`;
    const exporterConfig =
      SCALE === 1
        ? {}
        : {
            maxQueueSize: Math.round(20_000 * SCALE),
            maxQueueBytes: Math.round(32 * 1024 * 1024 * SCALE),
            flushIntervalMs: Math.round(1000 * SCALE),
            requestTimeoutMs: Math.round(10_000 * SCALE),
            retry: {
              initialDelayMs: Math.round(2000 * SCALE),
              maxDelayMs: Math.round(60_000 * SCALE),
              maxJitterMs: Math.round(5000 * SCALE),
            },
          };
    const total = OUTAGE_EXPOSURES + 2 * RATE; // a second of traffic before and after
    try {
      const app = startNode('sdk6', ['durable.cjs'], {
        ROUTE: 'register',
        MODE: 'stream',
        RATE: String(RATE),
        DURATION_MS: String((total * 1000) / RATE),
        PRINT_STATS: '1',
        EXPORTER_CONFIG: JSON.stringify(exporterConfig),
        MIXPANEL_TOKEN: TOKEN,
        MIXPANEL_API_HOST: server.url,
        OPTIMIZELY_MIXPANEL_SPOOL_DIR: spoolDir,
        OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS: String(Math.max(30_000, 120_000 * SCALE)),
      });
      await server.waitFor(() => server.events.length > 0, 20_000);
      await server.stop();
      const downAt = progress(app.stdout());
      await server.waitFor(() => progress(app.stdout()) >= downAt + OUTAGE_EXPOSURES, 60_000 + 60_000 * SCALE);
      await server.start();
      const run = await app.done;

      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`decided ${total}`);
      const stats = JSON.parse(/^stats (.*)$/m.exec(run.stderr)?.[1] ?? '{}');
      expect(stats.spooled).toBeGreaterThan(0); // the outage outgrew the queue
      expect(Object.values(stats.dropped as Record<string, number>).every((n) => n === 0)).toBe(true);
      expect(stats.pending, run.stderr).toBe(0);
      expect(new Set(server.events.map((e) => e.properties.distinct_id)).size).toBe(total);
      expect(server.events).toHaveLength(total);
      expect(server.profiles.size).toBe(total);
      expect(spoolFiles(spoolDir)).toEqual([]);
    } finally {
      folder.remove();
    }
  }, 240_000);
});
