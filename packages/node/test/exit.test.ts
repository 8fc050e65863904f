import { describe, expect, it } from 'vitest';
import { OUR_LINE, runNode, serverAndSpool, spoolFiles } from './child.js';

const TOKEN = 'exit-token-7c1d0e';
const harness = serverAndSpool(TOKEN, 'exit-spool-');
const { server } = harness;

function env(extra: Record<string, string | undefined> = {}) {
  return {
    MIXPANEL_TOKEN: TOKEN,
    MIXPANEL_API_HOST: server.url,
    OPTIMIZELY_MIXPANEL_SPOOL_DIR: harness.spoolDir,
    OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS: '10000',
    USERS: '300',
    ...extra,
  };
}

/** Users whose exposure Mixpanel kept, each once by (event, time, distinct_id, $insert_id). */
function deliveredUsers(): string[] {
  return server.events.map((e) => String(e.properties.distinct_id));
}

const users = (from: number, count: number) => Array.from({ length: count }, (_, i) => `user-${from + i}`);

const ENDINGS = [
  ['sdk6', 'exit', 'process.exit(0)'],
  ['sdk6', 'throw', 'an uncaught exception'],
  ['sdk6', 'async-throw', 'an uncaught exception in a callback'],
  ['sdk6', 'reject', 'an unhandled rejection'],
  ['sdk6', 'sigterm', "the app's SIGTERM handler that exits"],
  ['sdk5', 'exit', 'process.exit(0)'],
  ['sdk5', 'throw', 'an uncaught exception'],
  ['sdk5', 'sigterm', "the app's SIGTERM handler that exits"],
] as const;

describe('the process ends abruptly right after 300 exposures', () => {
  it.each(ENDINGS)('%s, %s (%s): spooled at exit, delivered exactly once by the next run', async (fixture, mode) => {
    const plain = await runNode(fixture, 'durable.cjs', false, env({ MODE: mode, MIXPANEL_TOKEN: undefined }));
    const first = await runNode(fixture, 'durable.cjs', true, env({ MODE: mode }));
    // The run is the same as without the instrumentation, apart from one diag line.
    expect(first.code).toBe(plain.code);
    expect(first.signal).toBe(plain.signal);
    expect(first.stdout).toBe(plain.stdout);
    expect(first.stderr.replace(OUR_LINE, '')).toBe(plain.stderr);
    const ours = first.stderr.match(OUR_LINE) ?? [];
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/600 Mixpanel record\(s\) undelivered at exit: 600 written to the spool/);
    expect(ours[0]).toContain(harness.spoolDir);
    expect(spoolFiles(harness.spoolDir).length).toBeGreaterThan(0);
    const firstEnded = Date.now();

    // The next run of the app (other users, a natural exit) sends both runs' exposures.
    const second = await runNode(fixture, 'durable.cjs', true, env({ MODE: 'natural', USER_OFFSET: '300' }));
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
    expect(deliveredUsers().sort()).toEqual([...users(0, 300), ...users(300, 300)].sort());
    expect(server.store.duplicates).toBe(0);
    // Replayed unchanged: the first run's events keep the first run's time.
    for (const event of server.events.filter((e) => Number(String(e.properties.distinct_id).slice(5)) < 300)) {
      expect(Number(event.properties.time)).toBeLessThanOrEqual(firstEnded);
    }
    expect(server.profiles.size).toBe(600);
    expect(spoolFiles(harness.spoolDir)).toEqual([]);
  });
});
