import { join } from 'node:path';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spoolFiles, startNode, tempFolder } from './child.js';
import { FIXTURES } from './helpers.js';

const TOKEN = 'lambda-token-3e9f1a';
const RUNTIME = join(FIXTURES.sdk6, '..', 'lambda', 'runtime.cjs');
let server: LocalMixpanelServer;
let folder: ReturnType<typeof tempFolder>;

beforeAll(async () => {
  server = new LocalMixpanelServer({ token: TOKEN });
  await server.start();
});
afterAll(() => server.stop());
beforeEach(() => {
  server.reset();
  folder = tempFolder('lambda-tmp-');
});
afterEach(() => folder.remove());

/** One invocation in a fresh emulated execution environment, killed the moment it completes. */
function invoke(
  fixture: keyof typeof FIXTURES,
  handler: string,
  event: { users: number; offset?: number },
  env: Record<string, string> = {},
) {
  return startNode(fixture, [RUNTIME], {
    NODE_OPTIONS: '--require @optimizely-mixpanel/node/register',
    LAMBDA_TASK_ROOT: FIXTURES[fixture],
    _HANDLER: handler,
    AWS_LAMBDA_FUNCTION_NAME: 'checkout',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
    // Lambda's only writable folder is /tmp: the default spool goes under the temp folder.
    TMPDIR: folder.dir,
    MIXPANEL_TOKEN: TOKEN,
    MIXPANEL_API_HOST: server.url,
    EVENT: JSON.stringify(event),
    ...env,
  }).done;
}

describe.each([
  ['sdk6', 'lambda.asyncHandler'],
  ['sdk5', 'lambda.callbackHandler'],
  ['sdk6', 'lambda.callbackHandler'],
  ['sdk5', 'lambda.asyncHandler'],
  ['sdk6', 'lambda-esm.callbackHandler'], // an ES module handler, loaded by import()
] as const)('%s %s under an emulated Lambda runtime', (fixture, handler) => {
  it('every exposure of the invocation arrives before the environment is killed', async () => {
    const run = await invoke(fixture, handler, { users: 50 });
    expect(run.stdout).toBe('result {"decided":50}\n');
    expect(run.signal).toBe('SIGKILL');
    expect(run.stderr).toBe('');
    expect(new Set(server.events.map((e) => e.properties.distinct_id)).size).toBe(50);
    expect(server.events).toHaveLength(50);
    expect(server.profiles.size).toBe(50);
  });
});

describe('Mixpanel does not answer during an invocation', () => {
  it('the invocation still completes within its remaining time; the exposures wait in /tmp for the next one', async () => {
    server.injectFault('hang', { times: Infinity });
    // The flush may take a minute, the invocation has 6 s left: the remaining time must win.
    const slow = { TIMEOUT_MS: '6000', OPTIMIZELY_MIXPANEL_LAMBDA_FLUSH_TIMEOUT_MS: '60000' };
    const first = await invoke('sdk6', 'lambda.asyncHandler', { users: 20 }, slow);
    expect(first.stdout).toBe('result {"decided":20}\n');
    expect(first.stderr).toMatch(/not delivered within the invocation's budget, written to /);
    const spool = /written to (\S+)/.exec(first.stderr)?.[1] as string;
    expect(spool.startsWith(folder.dir)).toBe(true);
    expect(spoolFiles(spool).length).toBeGreaterThan(0);
    expect(server.events).toHaveLength(0);

    server.clearFaults();
    const second = await invoke('sdk6', 'lambda.asyncHandler', { users: 5, offset: 20 });
    expect(second.stdout).toBe('result {"decided":5}\n');
    expect(new Set(server.events.map((e) => e.properties.distinct_id)).size).toBe(25);
    expect(server.store.duplicates).toBe(0);
    expect(spoolFiles(spool)).toEqual([]);
  });
});
