import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LineProcess, spawnNode } from '../../../test/support/processes.js';
import { type RedisServer, startRedis } from '../../../test/support/redis.js';
import { FIXTURES } from './helpers.js';

const RECEIVER = fileURLToPath(new URL('../../cohorts/bin/mixpanel-cohort-receiver.js', import.meta.url));
const DATAFILE = fileURLToPath(new URL('../../../test/fixtures/datafile-cohorts.json', import.meta.url));
const AUTH = 'mixpanel:fleet-secret';

let redis: RedisServer;
let receiver: LineProcess;
let receiverUrl: string;
const apps: Record<'sdk5' | 'sdk6', LineProcess> = {} as never;

/** An app process on one SDK major under the preload, reading cohorts from Redis. */
async function startApp(fixture: 'sdk5' | 'sdk6'): Promise<LineProcess> {
  const app = spawnNode(['--require', '@optimizely-mixpanel/node/register', 'cohorts.cjs'], {
    cwd: FIXTURES[fixture],
    env: { PATH: process.env.PATH, DATAFILE, OPTIMIZELY_MIXPANEL_COHORTS: redis.url },
  });
  expect(await app.nextLine(90_000)).toBe('ready'); // starting Node with the preload is slow on a loaded machine
  return app;
}

async function variation(app: LineProcess, user: string): Promise<string> {
  app.child.stdin.write(`${user}\n`);
  const line = await app.nextLine();
  return line.slice(`${user} premium_banner=`.length);
}

async function send(action: string, ids: string[]) {
  const res = await fetch(receiverUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(AUTH).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      action,
      parameters: {
        mixpanel_cohort_id: 77,
        mixpanel_cohort_name: 'Power Users',
        mixpanel_session_id: `s-${action}-${ids.join('-')}`,
        page_info: { total_pages: 1, page_count: 1 },
        members: ids.map((id) => ({ mixpanel_distinct_id: id })),
      },
    }),
  });
  expect(res.status).toBe(200);
}

/** Asks both apps until each answers `expected` for `user`; fails past `deadlineMs` after `since`. */
async function bothReach(user: string, expected: string, since: number, deadlineMs = 2000) {
  const pending = new Set(['sdk5', 'sdk6'] as const);
  for (;;) {
    for (const name of [...pending]) if ((await variation(apps[name], user)) === expected) pending.delete(name);
    if (pending.size === 0) return Date.now() - since;
    if (Date.now() - since > deadlineMs) {
      throw new Error(`${[...pending].join(', ')} still not ${expected} for ${user} ${deadlineMs} ms after the change`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  redis = await startRedis();
  receiver = spawnNode([RECEIVER, '--port', '0', '--store', redis.url, '--auth', AUTH]);
  receiverUrl = await receiver.nextLine(90_000);
  [apps.sdk5, apps.sdk6] = await Promise.all([startApp('sdk5'), startApp('sdk6')]);
}, 120_000);
afterAll(async () => {
  await Promise.all([apps.sdk5?.stop(), apps.sdk6?.stop(), receiver?.stop()]);
  await redis?.stop();
});

describe('a fleet on Redis: one receiver, two app processes (SDK 5 and 6)', () => {
  it('a change reaches both apps within 2 s', async () => {
    expect(await variation(apps.sdk5, 'ann')).toBe('off');
    expect(await variation(apps.sdk6, 'ann')).toBe('off');

    await send('members', ['ann', 'bob']);
    await bothReach('ann', 'on', Date.now());
    expect(await variation(apps.sdk5, 'zed')).toBe('off');
    expect(await variation(apps.sdk6, 'zed')).toBe('off');

    await send('add_members', ['zed']);
    await bothReach('zed', 'on', Date.now());

    await send('remove_members', ['ann']);
    await bothReach('ann', 'off', Date.now());
    expect(await variation(apps.sdk5, 'bob')).toBe('on');
    expect(await variation(apps.sdk6, 'bob')).toBe('on');
  });

  it('an app process still ends by itself: the Redis connections do not hold it open', async () => {
    const app = apps.sdk6;
    const exited = new Promise<number | null>((resolve) => app.child.on('exit', (code) => resolve(code)));
    app.child.stdin.end();
    expect(await exited).toBe(0);
  });
});
