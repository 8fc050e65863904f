import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type LineProcess, spawnNode } from '../../../test/support/processes.js';
import { FileCohortStore } from '../src/index.js';
import { post, webhook } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/mixpanel-cohort-receiver.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cohort-cli-'));
const running: LineProcess[] = [];

function receiver(...args: string[]): LineProcess {
  const proc = spawnNode([BIN, ...args]);
  running.push(proc);
  return proc;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mixpanel-cohort-receiver', () => {
  it('prints its URL first with --port 0, and a restarted receiver on the file store keeps its cohorts', async () => {
    const path = join(dir, 'cohorts.json');
    const first = receiver('--port', '0', '--store', path, '--auth', 'mixpanel:pw');
    const url = await first.nextLine(60_000);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await post(url, webhook('members', ['a', 'b'], { session: 's1' }), 'mixpanel:pw')).status).toBe(200);
    // A sync in progress when the receiver stops.
    await post(url, webhook('members', ['n1'], { session: 's2', page: 1, total: 2 }), 'mixpanel:pw');
    expect(await first.stop()).toBe(0);

    const second = receiver('--port', '0', '--store', path, '--auth', 'mixpanel:pw');
    const url2 = await second.nextLine(60_000);
    expect((await post(url2, webhook('add_members', ['c']), 'mixpanel:pw')).status).toBe(200);
    expect((await new FileCohortStore(path).members('1001')).sort()).toEqual(['a', 'b', 'c']);
    // The page kept from before the restart completes its sync.
    await post(url2, webhook('members', ['n2'], { session: 's2', page: 2, total: 2 }), 'mixpanel:pw');
    expect((await new FileCohortStore(path).members('1001')).sort()).toEqual(['n1', 'n2']);
    expect((await post(url2, webhook('add_members', ['x']), 'mixpanel:bad')).status).toBe(401);
  }, 90_000);

  it('takes the credentials from MIXPANEL_COHORT_RECEIVER_AUTH and answers a health check', async () => {
    const proc = spawnNode([BIN, '--port', '0', '--store', join(dir, 'env.json')], {
      env: { ...process.env, MIXPANEL_COHORT_RECEIVER_AUTH: 'user:from-env' },
    });
    running.push(proc);
    const url = await proc.nextLine(60_000);
    expect((await post(url, webhook('add_members', ['x']))).status).toBe(401);
    expect((await post(url, webhook('add_members', ['x']), 'user:from-env')).status).toBe(200);
    expect((await fetch(`${url}healthz`)).status).toBe(200);
  }, 90_000);

  it('explains a bad command line and exits 2', async () => {
    const proc = receiver('--store', join(dir, 'x.json'));
    const code = await new Promise((resolve) => proc.child.on('exit', resolve));
    expect(code).toBe(2);
    expect(proc.stderr()).toMatch(/--port must be 0-65535[\s\S]*Usage: mixpanel-cohort-receiver/);
    const open = receiver('--port', '0', '--host', '0.0.0.0', '--store', join(dir, 'x.json'));
    expect(await new Promise((resolve) => open.child.on('exit', resolve))).toBe(2);
    expect(open.stderr()).toMatch(/--auth is required when listening on 0\.0\.0\.0/);
    const help = receiver('--help');
    expect(await help.nextLine(60_000)).toMatch(/^Usage: mixpanel-cohort-receiver --port N --store/);
  }, 90_000);

  it('exits 1 when Redis cannot be reached', async () => {
    const proc = receiver('--port', '0', '--store', 'redis://127.0.0.1:1');
    const code = await new Promise((resolve) => proc.child.on('exit', resolve));
    expect(code).toBe(1);
    expect(proc.stderr()).toMatch(/redis:\/\/127\.0\.0\.1:1/);
  }, 30_000);
});
