import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { flush, shutdown } from '../src/index.js';
import { OUR_LINE, runNode, serverAndSpool, spoolFiles } from './child.js';

const TOKEN = 'routes-token-5a8e4f';
const harness = serverAndSpool(TOKEN, 'routes-spool-');
const { server } = harness;

function env(extra: Record<string, string | undefined> = {}) {
  return {
    MIXPANEL_TOKEN: TOKEN,
    MIXPANEL_API_HOST: server.url,
    OPTIMIZELY_MIXPANEL_SPOOL_DIR: harness.spoolDir,
    USERS: '100',
    // The app's own NodeSDK exports no spans here (no collector to wait for).
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    ...extra,
  };
}

const deliveredUsers = () => new Set(server.events.map((e) => e.properties.distinct_id)).size;

describe('flush() and shutdown()', () => {
  it('resolve at once when nothing is enabled', async () => {
    const settled: string[] = [];
    void flush().then(() => settled.push('flush'));
    void shutdown().then(() => settled.push('shutdown'));
    // No timer, no I/O: a few microtasks are enough.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(settled.sort()).toEqual(['flush', 'shutdown']);
  });

  it("act on the preload's instrumentation: await flush() then process.exit(0) delivers everything", async () => {
    const run = await runNode('sdk6', 'durable.cjs', true, env({ MODE: 'flush-exit' }));
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(''); // nothing was left for the exit line
    expect(deliveredUsers()).toBe(100);
    expect(server.profiles.size).toBe(100);
    expect(spoolFiles(harness.spoolDir)).toEqual([]);
  });
});

describe.each([
  ['register', 'an instrumentation the app creates'],
  ['nodesdk', 'a NodeSDK the app starts and never shuts down'],
  ['client', 'instrumentClient on a client made before'],
] as const)('%s route (%s)', (route) => {
  it('a natural exit delivers every exposure', async () => {
    const run = await runNode('sdk6', 'durable.cjs', false, env({ ROUTE: route, MODE: 'natural' }));
    expect(run.code).toBe(0);
    expect(deliveredUsers()).toBe(100);
  });

  it('process.exit(0) spools them, and the next run delivers them once', async () => {
    const first = await runNode('sdk5', 'durable.cjs', false, env({ ROUTE: route, MODE: 'exit' }));
    expect(first.code).toBe(0);
    expect(spoolFiles(harness.spoolDir).length).toBeGreaterThan(0);
    await runNode('sdk5', 'durable.cjs', false, env({ ROUTE: route, MODE: 'natural', USER_OFFSET: '100' }));
    expect(deliveredUsers()).toBe(200);
    expect(server.store.duplicates).toBe(0);
  });
});

/** Whether every folder above `path` lets other users through (a clone in a 0700 temp folder does not). */
function traversableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

describe('a read-only spool folder', () => {
  // root writes anywhere: the app then runs as nobody, as services usually do. Where nobody cannot
  // reach the checkout or the node binary, the folder is made unusable for root too: its parent is a regular file.
  const asNobody =
    process.getuid?.() === 0 &&
    traversableByOthers(fileURLToPath(new URL('.', import.meta.url))) &&
    traversableByOthers(dirname(process.execPath));
  const asOther = asNobody ? { uid: 65534, gid: 65534 } : {};

  it('gives one warning; the app runs unchanged and delivers as without a spool', async () => {
    if (asNobody || process.getuid?.() !== 0) {
      fs.mkdirSync(harness.spoolDir, { mode: 0o555 });
      fs.chmodSync(harness.spoolDir, 0o555);
      fs.chmodSync(harness.dir, 0o755);
    } else {
      fs.writeFileSync(`${harness.dir}/not-a-folder`, '');
      harness.spoolDir = `${harness.dir}/not-a-folder/spool`;
    }
    const plain = await runNode(
      'sdk6',
      'durable.cjs',
      false,
      env({ MODE: 'natural', MIXPANEL_TOKEN: undefined }),
      asOther,
    );
    const run = await runNode('sdk6', 'durable.cjs', true, env({ MODE: 'natural' }), asOther);
    expect(plain.code).toBe(0);
    expect(run.code).toBe(plain.code);
    expect(run.stdout).toBe(plain.stdout);
    const ours = run.stderr.match(OUR_LINE) ?? [];
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/spool unavailable.*cannot use/);
    expect(run.stderr.replace(OUR_LINE, '')).toBe(plain.stderr);
    expect(deliveredUsers()).toBe(100);
    if (fs.existsSync(harness.spoolDir)) expect(fs.readdirSync(harness.spoolDir)).toEqual([]);
  });
});
