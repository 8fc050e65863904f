// The instrumentation against one or more copies of @optimizely/optimizely-sdk, as an application
// loads them: a child process under the preload creates a client, decides, and exits by itself; the
// exposure and the profile update must reach the local Mixpanel server, for `require` and `import` of
// the package and of its subpath entries (`/node`; `/universal` on 6.x, whose files the instrumentation names).
// `pnpm test` runs it against the pinned 5.x and 6.x copies; `pnpm test:versions` against every
// published minor (OPTIMIZELY_SDK_DIRS: folders whose node_modules hold the SDK, path-delimited).
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATAFILE_PATH } from '../support/optimizely.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const REGISTER = fileURLToPath(new URL('../../packages/node/dist/register.js', import.meta.url));
const TOKEN = 'versions-token-9f8e';
const SDK_DIRS = process.env.OPTIMIZELY_SDK_DIRS
  ? process.env.OPTIMIZELY_SDK_DIRS.split(delimiter).filter(Boolean)
  : [join(here, '../fixtures/sdk5'), join(here, '../fixtures/sdk6')];

const work = mkdtempSync(join(tmpdir(), 'om-versions-'));
/** An application folder that loads the SDK copy in `sdkDir`; returns it and the SDK's version. */
function appFor(sdkDir: string): { dir: string; version: string } {
  const modules = realpathSync(join(sdkDir, 'node_modules'));
  const { version } = JSON.parse(readFileSync(join(modules, '@optimizely/optimizely-sdk/package.json'), 'utf8'));
  const dir = join(work, version);
  mkdirSync(dir);
  symlinkSync(modules, join(dir, 'node_modules'), 'dir');
  for (const file of readdirSync(join(here, 'app'))) copyFileSync(join(here, 'app', file), join(dir, file));
  return { dir, version };
}
const APPS = SDK_DIRS.map(appFor);

let server: LocalMixpanelServer;
beforeAll(async () => {
  server = new LocalMixpanelServer({ token: TOKEN });
  await server.start();
});
afterAll(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});
function run(dir: string, entry: string, flag: '--require' | '--import', userId: string) {
  const child = spawn(process.execPath, [flag, REGISTER, entry], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      DATAFILE: DATAFILE_PATH,
      USER_ID: userId,
      MIXPANEL_TOKEN: TOKEN,
      MIXPANEL_API_HOST: server.url,
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      // No spool: what one test leaves undelivered must not be replayed into another.
      OPTIMIZELY_MIXPANEL_SPOOL_DIR: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/** Entry files by how the app loads the SDK: the package, its `/node` subpath and (6.x) `/universal`. */
function entries(version: string) {
  const files = ['app', 'node', ...(version.startsWith('6.') ? ['universal'] : [])];
  return files.flatMap((file) => [
    [`${file}.cjs`, '--require'],
    [`${file}.mjs`, '--import'],
  ]) as Array<[string, '--require' | '--import']>;
}

// Each case decides for a user of its own: what the server holds tells the cases apart.
describe.each(APPS)('@optimizely/optimizely-sdk $version', ({ dir, version }) => {
  it.each(entries(version))(
    '%s under %s: the exposure and the profile update reach Mixpanel at a natural exit',
    async (entry, flag) => {
      const userId = `user-${version}-${entry}`;
      const result = await run(dir, entry, flag, userId);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const printed = /^(\S+) checkout_redesign=(control|variation_a) rule=checkout_redesign_ab$/.exec(
        result.stdout.trim(),
      );
      expect(printed?.[1]).toBe(userId);
      const variation = printed?.[2];

      const exposures = server.events.filter((e) => e.properties.distinct_id === userId);
      expect(exposures).toHaveLength(1);
      expect(exposures[0]?.properties).toMatchObject({
        flag_key: 'checkout_redesign',
        variation_key: variation,
        rule_key: 'checkout_redesign_ab',
        enabled: true,
      });
      expect(server.profiles.get(userId)).toEqual({ '[Optimizely] checkout_redesign': variation });
    },
  );
});
