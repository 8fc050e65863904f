// Apps installed with npm from the packed packages, built by their own Vite, webpack 5 and esbuild,
// run in Chromium against the local Mixpanel-compatible server.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InstalledApps, installApps, runIn } from './support/apps.js';
import { launchChromium } from './support/chromium.js';

const TOKEN = 'browser-demo-token';
const BUNDLERS = ['vite', 'webpack', 'esbuild'] as const;
type Bundler = (typeof BUNDLERS)[number];
const OUT: Record<Bundler, string> = { vite: 'dist', webpack: 'dist-webpack', esbuild: 'dist-esbuild' };

let apps: InstalledApps;
let server: LocalMixpanelServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

/** Builds one app with one bundler, through the app's own installed tools and config file. */
async function buildApp(app: string, bundler: Bundler): Promise<void> {
  const cwd = apps.dir(app);
  const bin = (path: string) => join(apps.root, 'node_modules', path);
  if (bundler === 'vite') await runIn(cwd, process.execPath, [bin('vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
  // Terser on two SDK copies takes long on a busy machine and proves nothing here.
  if (bundler === 'webpack')
    await runIn(cwd, process.execPath, [
      bin('webpack-cli/bin/cli.js'),
      '--config',
      'webpack.config.mjs',
      '--no-optimization-minimize',
    ]);
  if (bundler === 'esbuild') await runIn(cwd, process.execPath, ['esbuild.config.mjs']);
}

beforeAll(async () => {
  apps = await installApps(
    ['@optimizely-mixpanel/browser', '@optimizely-mixpanel/node'],
    ['react-app', 'two-sdk-copies'],
  );
  for (const app of ['react-app', 'two-sdk-copies']) {
    await Promise.all(BUNDLERS.map((bundler) => buildApp(app, bundler)));
  }
  // Pages and Mixpanel API on one origin: mixpanel-browser sends with credentials.
  server = new LocalMixpanelServer({ token: TOKEN, staticDir: apps.root });
  await server.start();
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

beforeEach(async () => {
  server.reset();
  pageErrors.length = 0;
  // A fresh context per test: no queued events or dedup memory carried over.
  context = await browser.newContext();
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error)));
});

afterEach(async () => {
  await context?.close();
});

const exposures = () => server.events.filter((e) => e.event === 'Experiment Viewed');
// Profile updates arrive in several batches ($set_once of the referrer, then ours): wait for ours.
const profileProperty = (id: string) => server.profiles.get(id)?.['[Optimizely] checkout_redesign'];
const purchases = () => server.events.filter((e) => e.event === 'Purchase');

async function variationShown(selector = '#status'): Promise<string> {
  const element = await page.waitForSelector(`${selector}[data-variation]:not([data-variation=""])`);
  return (await element.getAttribute('data-variation')) as string;
}

function pageStats(): Promise<{ exposed: number; skipped: Record<string, number> }> {
  return page.evaluate(() =>
    (
      window as unknown as { optimizelyMixpanelStats(): { exposed: number; skipped: Record<string, number> } }
    ).optimizelyMixpanelStats(),
  );
}

/**
 * The 6.x client alone decides premium_banner (a rollout: the profile property), the React SDK's 5.x
 * client alone checkout_redesign (an experiment: the exposure event, without the experiment ids 6.x adds).
 */
async function expectBothClients(): Promise<void> {
  await server.waitFor(() => {
    const profile = server.profiles.get('user-123');
    return (
      exposures().length >= 1 &&
      profile?.['[Optimizely] premium_banner'] === 'off' &&
      profile?.['[Optimizely] checkout_redesign'] === 'variation_a'
    );
  });
  expect(server.profiles.get('user-123')).toMatchObject({
    '[Optimizely] premium_banner': 'off',
    '[Optimizely] checkout_redesign': 'variation_a',
  });
  const checkout = exposures().filter((e) => e.properties.flag_key === 'checkout_redesign');
  expect(checkout).toHaveLength(1);
  expect(checkout[0]?.properties).toMatchObject({ distinct_id: 'user-123', variation_key: 'variation_a' });
  expect(checkout[0]?.properties).not.toHaveProperty('experiment_id');
}

describe('the installed apps', () => {
  it('have two SDK copies: 5.x under the React SDK, 6.x at the top; the React app depends on no SDK itself', () => {
    const version = (path: string) => JSON.parse(readFileSync(join(apps.root, path, 'package.json'), 'utf8')).version;
    expect(version('node_modules/@optimizely/react-sdk/node_modules/@optimizely/optimizely-sdk')).toBe('5.4.1');
    expect(version('node_modules/@optimizely/optimizely-sdk')).toMatch(/^6\./);
    const manifest = JSON.parse(readFileSync(join(apps.dir('react-app'), 'package.json'), 'utf8'));
    expect(manifest.dependencies).not.toHaveProperty('@optimizely/optimizely-sdk');
    expect(manifest.dependencies['@optimizely-mixpanel/browser']).toMatch(/^file:.*\.tgz$/);
  });
});

describe.each(BUNDLERS)('React app built with %s, in Chromium', (bundler) => {
  const url = (query: string) => `${server.url}/react-app/${OUT[bundler]}/index.html?${query}`;

  it('sends the exposure, profile update and super property; a purchase after useDecision carries it', async () => {
    await page.goto(url('user=user-123'));
    expect(await variationShown()).toBe('variation_a');
    await server.waitFor(() => exposures().length === 1 && profileProperty('user-123') !== undefined);
    expect(exposures()[0]?.properties).toMatchObject({
      distinct_id: 'user-123',
      flag_key: 'checkout_redesign',
      variation_key: 'variation_a',
      rule_key: 'checkout_redesign_ab',
      enabled: true,
      '[Optimizely] checkout_redesign': 'variation_a',
      mp_lib: 'web',
    });
    expect(server.profiles.get('user-123')).toMatchObject({ '[Optimizely] checkout_redesign': 'variation_a' });

    await page.click('#buy');
    await server.waitFor(() => purchases().length === 1);
    expect(purchases()[0]?.properties).toMatchObject({
      distinct_id: 'user-123',
      amount: 42,
      '[Optimizely] checkout_redesign': 'variation_a',
    });
    expect(pageErrors).toEqual([]);
  });

  it('five re-renders and a reload give one exposure', async () => {
    await page.goto(url('user=user-123'));
    await variationShown();
    await server.waitFor(() => exposures().length === 1);
    for (let i = 1; i <= 5; i++) {
      await page.click('#rerender');
      await page.waitForSelector(`#rerender[data-renders="${i}"]`);
    }
    // Each remount decided again, and each decision was recognised as a duplicate.
    await expect.poll(async () => (await pageStats()).skipped.duplicate ?? 0).toBeGreaterThanOrEqual(5);

    await page.reload();
    await variationShown();
    await expect.poll(async () => (await pageStats()).skipped.duplicate ?? 0).toBeGreaterThanOrEqual(1);
    expect((await pageStats()).exposed).toBe(0);
    // The purchase is queued after every decision of the page: once it is in, nothing else is coming.
    await page.click('#buy');
    await server.waitFor(() => purchases().length === 1);
    expect(exposures()).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  });
});

describe('React app built with no plugin', () => {
  it("instrumentClient on the React client's .client sends the exposure", async () => {
    const dir = apps.dir('react-app');
    const esbuild = await import(join(apps.root, 'node_modules/esbuild/lib/main.js'));
    await esbuild.build({
      absWorkingDir: dir,
      entryPoints: { main: 'src/manual.js' },
      bundle: true,
      format: 'esm',
      outdir: 'dist-manual',
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'error',
    });
    const html = readFileSync(join(dir, 'index.html'), 'utf8').replace('./src/main.js', './main.js');
    writeFileSync(join(dir, 'dist-manual/index.html'), html);

    await page.goto(`${server.url}/react-app/dist-manual/index.html?user=user-123`);
    expect(await variationShown()).toBe('variation_a');
    await server.waitFor(() => exposures().length === 1 && profileProperty('user-123') !== undefined);
    expect(exposures()[0]?.properties).toMatchObject({ flag_key: 'checkout_redesign', variation_key: 'variation_a' });
    await page.click('#buy');
    await server.waitFor(() => purchases().length === 1);
    expect(purchases()[0]?.properties).toMatchObject({ '[Optimizely] checkout_redesign': 'variation_a' });
  });
});

describe.each(BUNDLERS)('an app with SDK 5.x (React SDK) and 6.x (its own), built with %s', (bundler) => {
  it('instruments the clients of both copies', async () => {
    await page.goto(`${server.url}/two-sdk-copies/${OUT[bundler]}/index.html?user=user-123`);
    expect(await variationShown('#banner')).toBe('off');
    expect(await variationShown('#status')).toBe('variation_a');
    await expectBothClients();
    expect(pageErrors).toEqual([]);
  });
});

let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill();
    await exited;
  }
  child = undefined;
});

/** Starts a server process of an app and resolves with its origin once it prints it. */
async function startAppServer(
  app: string,
  args: (port: number) => string[],
  env: Record<string, string> = {},
): Promise<string> {
  const port = await freePort();
  child = spawn(process.execPath, args(port), {
    cwd: apps.dir(app),
    // NO_COLOR: a server that colours its banner splits the origin it prints with escape codes.
    env: { ...process.env, ...env, PORT: String(port), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const origin = `http://127.0.0.1:${port}`;
  await expect
    .poll(() => output.includes(origin) || child?.exitCode !== null, { timeout: 30_000, interval: 50 })
    .toBe(true)
    .catch((error) => {
      throw new Error(`${app} server did not start: ${String(error)}\n${output}`);
    });
  if (child.exitCode !== null) throw new Error(`${app} server exited: ${output}`);
  return origin;
}

describe('the Vite dev server', () => {
  const startDevServer = (app: string) =>
    startAppServer(app, (port) => [
      join(apps.root, 'node_modules/vite/bin/vite.js'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--strictPort',
    ]);

  it('serves the React app with its nested 5.x client instrumented', async () => {
    const origin = await startDevServer('react-app');
    // Cross-origin to the API here: the local server answers mixpanel-browser's credentialed CORS.
    await page.goto(`${origin}/index.html?user=user-123&api_host=${encodeURIComponent(server.url)}`);
    expect(await variationShown()).toBe('variation_a');
    await server.waitFor(() => exposures().length === 1);
    expect(exposures()[0]?.properties).toMatchObject({ flag_key: 'checkout_redesign', variation_key: 'variation_a' });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('serves the two-copy app with both clients instrumented', async () => {
    const origin = await startDevServer('two-sdk-copies');
    await page.goto(`${origin}/index.html?user=user-123&api_host=${encodeURIComponent(server.url)}`);
    expect(await variationShown('#status')).toBe('variation_a');
    await expectBothClients();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});

describe('server rendering under the Node preload, hydrated in Chromium', () => {
  it("the server's decide() and the hydrated page's decide() count the user's exposure once", async () => {
    // Both sides stamp the exposure with its minute: start well inside one, so render and hydration share it.
    await expect.poll(() => new Date().getSeconds() < 40, { timeout: 30_000, interval: 250 }).toBe(true);
    const origin = await startAppServer(
      'react-app',
      () => ['--require', '@optimizely-mixpanel/node/register', 'server.mjs'],
      {
        MIXPANEL_TOKEN: TOKEN,
        MIXPANEL_API_HOST: server.url,
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
      },
    );
    await page.goto(`${origin}/?user=ssr-user&api_host=${encodeURIComponent(server.url)}`);
    expect(await page.getAttribute('#root', 'data-user')).toBe('ssr-user');
    expect(await variationShown()).toBeTruthy();
    const mine = () => exposures().filter((e) => e.properties.distinct_id === 'ssr-user');
    const duplicates = () => server.requests.reduce((sum, r) => sum + (r.duplicates ?? 0), 0);
    // Both copies arrive (the server's through the exporter, the page's through mixpanel-browser); one is kept.
    await server.waitFor(() => mine().length === 1 && duplicates() >= 1, 30_000);
    const kept = mine()[0]?.properties;
    // Whichever copy arrived first is kept; both name the same decision.
    expect(kept).toMatchObject({ flag_key: 'checkout_redesign', $insert_id: expect.any(String) });
    expect(Number(kept?.time) % 60_000).toBe(0);
    expect(mine()).toHaveLength(1);
    // The server's copy came through the exporter (JSON), the page's through mixpanel-browser (form).
    expect(server.requests.some((r) => r.path !== '/engage' && r.contentType?.includes('json'))).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
