import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/browser-app/', import.meta.url));
const TOKEN = 'browser-demo-token';

let outDir: string;
let server: LocalMixpanelServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'optimizely-mixpanel-page-'));
  // The example page, built with Vite and this package's plugin, as an app would build it.
  await build({ root: EXAMPLE, configFile: join(EXAMPLE, 'vite.config.js'), logLevel: 'error', build: { outDir } });
  // Page and Mixpanel API on one origin: mixpanel-browser sends with credentials.
  server = new LocalMixpanelServer({ token: TOKEN, staticDir: outDir });
  await server.start();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
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

async function open(path: string): Promise<string> {
  await page.goto(`${server.url}/${path}`);
  await page.waitForSelector('#status[data-variation]');
  return (await page.getAttribute('#status', 'data-variation')) as string;
}

const exposures = () => server.events.filter((e) => e.event === 'Experiment Viewed');
// Profile updates arrive in several batches ($set_once of the referrer, then ours): wait for ours.
const profileProperty = (id: string) => server.profiles.get(id)?.['[Optimizely] checkout_redesign'];

type Stats = { exposed: number; skipped: Record<string, number> };
const pageStats = () =>
  page.evaluate(() => (window as unknown as { optimizelyMixpanelStats(): Stats }).optimizelyMixpanelStats());
const skipped = async (reason: string) => (await pageStats()).skipped[reason] ?? 0;

/** Tracks a marker event and waits for it: mixpanel-browser queues in order, so all earlier events are in too. */
async function drain(): Promise<void> {
  const before = server.events.filter((e) => e.event === 'Purchase').length;
  await page.evaluate(() => (window as unknown as { app: { purchase(): void } }).app.purchase());
  await server.waitFor(() => server.events.filter((e) => e.event === 'Purchase').length > before);
}

describe.each(['index.html', 'umd.html'])('%s in Chromium', (file) => {
  it('sends the exposure event, the profile property and the super property', async () => {
    const variation = await open(`${file}?user=user-123`);
    expect(variation).toBe('variation_a');
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
    expect(pageErrors).toEqual([]);
  });

  it('a conversion tracked after decide() carries the experiment as a super property', async () => {
    await open(`${file}?user=user-123`);
    await page.evaluate(() => (window as unknown as { app: { purchase(): void } }).app.purchase());
    await server.waitFor(() => server.events.some((e) => e.event === 'Purchase'));
    const purchase = server.events.find((e) => e.event === 'Purchase');
    expect(purchase?.properties).toMatchObject({ amount: 42, '[Optimizely] checkout_redesign': 'variation_a' });
  });
});

describe('dedup, consent and failures in Chromium', () => {
  it('repeated decide() and a reload send one exposure; a changed variation sends a new one', async () => {
    await open('index.html?user=user-123');
    await page.evaluate(() => (window as unknown as { app: { decideAgain(): string } }).app.decideAgain());
    expect(await skipped('duplicate')).toBeGreaterThanOrEqual(3);
    await page.reload();
    await page.waitForSelector('#status[data-variation]');
    // The reloaded page decided three times and recognised each from the session's dedup memory.
    expect(await pageStats()).toMatchObject({ exposed: 0, skipped: { duplicate: 3 } });
    await drain();
    expect(exposures()).toHaveLength(1);

    await open('index.html?user=user-123&force=control');
    await server.waitFor(() => exposures().length === 2);
    expect(exposures()[1]?.properties).toMatchObject({
      variation_key: 'control',
      '[Optimizely] checkout_redesign': 'control',
    });
  });

  it("with no user id of its own, the app decides for Mixpanel's distinct_id and no identify is needed", async () => {
    await open('index.html');
    await server.waitFor(() => exposures().length === 1);
    const distinctId = await page.evaluate(
      () => localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith('mp_')) ?? '') ?? '',
    );
    expect(exposures()[0]?.properties.distinct_id).toMatch(/^\$device:/);
    expect(distinctId).toContain(String(exposures()[0]?.properties.distinct_id).replace('$device:', ''));
  });

  it("identity 'warn': a user id that is not Mixpanel's distinct_id is warned about once and not sent", async () => {
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text());
    });
    await open('index.html?user=user-123&identity=warn');
    await page.evaluate(() => (window as unknown as { app: { decideAgain(): string } }).app.decideAgain());
    // Without identify, the page's own distinct_id stays: the marker goes under it.
    await drain();
    expect(await skipped('identity_mismatch')).toBe(4);
    expect(exposures()).toHaveLength(0);
    expect(server.profiles.size).toBe(0);
    expect(warnings.filter((w) => w.includes("differs from Mixpanel's distinct_id"))).toHaveLength(1);
  });

  it('a console.warn that throws changes nothing: the skip keeps its reason, the app goes on', async () => {
    await page.addInitScript(() => {
      console.warn = () => {
        throw new Error('console.warn is broken');
      };
    });
    await open('index.html?user=user-123&identity=warn');
    await page.evaluate(() => (window as unknown as { app: { decideAgain(): string } }).app.decideAgain());
    await drain();
    expect(await skipped('identity_mismatch')).toBe(4);
    expect(await skipped('error')).toBe(0);
    expect(exposures()).toHaveLength(0);
    expect(pageErrors).toEqual([]);
  });

  it('with a web tracer provider, each decision adds a feature_flag.evaluation event to the active span', async () => {
    await open('index.html?user=user-123&trace=1');
    const spans = await page.evaluate(() =>
      (
        window as unknown as {
          finishedSpans(): Array<{
            name: string;
            traceId: string;
            events: Array<{ name: string; attributes: Record<string, unknown> }>;
          }>;
        }
      ).finishedSpans(),
    );
    const render = spans.find((s) => s.name === 'render checkout');
    expect(render?.events.map((e) => e.name)).toEqual(Array(3).fill('feature_flag.evaluation'));
    expect(render?.events[0]?.attributes).toMatchObject({
      'feature_flag.key': 'checkout_redesign',
      'feature_flag.result.variant': 'variation_a',
      'feature_flag.provider.name': 'Optimizely',
      'feature_flag.result.reason': 'split',
      'feature_flag.set.id': 'production',
      'optimizely.exposure': 'exported',
    });
    expect(render?.events.slice(1).map((e) => e.attributes['optimizely.exposure'])).toEqual(['duplicate', 'duplicate']);
    // The same reasons as in Node, whether the decision was exported or deduplicated.
    expect(render?.events.map((e) => e.attributes['feature_flag.result.reason'])).toEqual(['split', 'split', 'split']);
    // The exposure event links to the trace, and the span event to the Mixpanel event.
    await server.waitFor(() => exposures().length === 1);
    expect(exposures()[0]?.properties.trace_id).toBe(render?.traceId);
    expect(render?.events[0]?.attributes['mixpanel.insert_id']).toBe(exposures()[0]?.properties.$insert_id);
  });

  it('with spanEvents: false, exposure events carry trace_id and spans get no events', async () => {
    await open('index.html?user=user-123&trace=1&spanEvents=0');
    const spans = await page.evaluate(() =>
      (
        window as unknown as { finishedSpans(): Array<{ name: string; traceId: string; events: unknown[] }> }
      ).finishedSpans(),
    );
    const render = spans.find((s) => s.name === 'render checkout');
    expect(render?.events).toEqual([]);
    await server.waitFor(() => exposures().length === 1);
    expect(exposures()[0]?.properties.trace_id).toBe(render?.traceId);
  });

  it('with traceIds: false, spans get their events and exposure events carry no trace_id', async () => {
    await open('index.html?user=user-123&trace=1&traceIds=0');
    const spans = await page.evaluate(() =>
      (window as unknown as { finishedSpans(): Array<{ name: string; events: unknown[] }> }).finishedSpans(),
    );
    expect(spans.find((s) => s.name === 'render checkout')?.events.length).toBeGreaterThan(0);
    await server.waitFor(() => exposures().length === 1);
    expect(exposures()[0]?.properties).not.toHaveProperty('trace_id');
  });

  it('options in a form the opt-in entries do not make: never thrown into the app, counted or defaulted', async () => {
    // The API's trace itself as tracing: each decision fails, counted as error and warned once.
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text());
    });
    await open('index.html?user=user-123&trace=1&rawTrace=1');
    await drain();
    expect(exposures()).toEqual([]);
    expect(await skipped('error')).toBeGreaterThan(0);
    expect(warnings.filter((w) => w.includes('a decision was not sent'))).toHaveLength(1);
    // A string as eventFormat, its earlier form: the default format.
    server.reset();
    await open('index.html?user=user-456&rawFormat=both');
    await server.waitFor(() => exposures().length === 1);
    await drain();
    expect(server.events.filter((e) => e.event === '$experiment_started')).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('reports the everyone-else rule as default, the first time and when deduplicated', async () => {
    await open('index.html?user=user-123&trace=1');
    type App = { app: { decideInSpan(flag: string): string } };
    await page.evaluate(() => (window as unknown as App).app.decideInSpan('premium_banner'));
    await page.evaluate(() => (window as unknown as App).app.decideInSpan('premium_banner'));
    const spans = await page.evaluate(() =>
      (
        window as unknown as {
          finishedSpans(): Array<{ name: string; events: Array<{ attributes: Record<string, unknown> }> }>;
        }
      ).finishedSpans(),
    );
    const banner = spans.filter((s) => s.name === 'decide premium_banner').flatMap((s) => s.events);
    expect(
      banner.map((e) => [e.attributes['feature_flag.result.reason'], e.attributes['optimizely.exposure']]),
    ).toEqual([
      ['default', 'exported'],
      ['default', 'duplicate'],
    ]);
    // A rollout is not an experiment: profile and super property, no exposure event.
    await page.evaluate(() => (window as unknown as { app: { purchase(): void } }).app.purchase());
    await server.waitFor(
      () =>
        server.events.some((e) => e.event === 'Purchase') &&
        server.profiles.get('user-123')?.['[Optimizely] premium_banner'] === 'off',
    );
    expect(server.events.find((e) => e.event === 'Purchase')?.properties['[Optimizely] premium_banner']).toBe('off');
    expect(exposures().filter((e) => e.properties.flag_key === 'premium_banner')).toEqual([]);
  });

  it('opt-in entries: an exposure hook tags or drops exposures, allowlisted attributes are copied', async () => {
    await open('index.html?user=user-123&hook=tag&attributes=1&plan=pro');
    await server.waitFor(() => exposures().length === 1);
    expect(exposures()[0]?.properties).toMatchObject({ page_build: 'checkout-v2', plan: 'pro' });
    expect(pageErrors).toEqual([]);

    // Without them, neither the attribute nor the hook's property is sent.
    server.reset();
    await open('index.html?user=user-456&plan=pro');
    await server.waitFor(() => exposures().length === 1);
    expect(exposures()[0]?.properties).not.toHaveProperty('plan');
    expect(exposures()[0]?.properties).not.toHaveProperty('page_build');

    server.reset();
    await open('index.html?user=qa-1&hook=drop');
    await drain();
    expect(await pageStats()).toMatchObject({ exposed: 0, skipped: { dropped_by_hook: 1, duplicate: 2 } });
    expect(exposures()).toEqual([]);
  });

  it("eventFormat('both') sends $experiment_started beside the exposure, with its $insert_id and time", async () => {
    await open('index.html?user=user-123&format=both');
    const started = () => server.events.filter((e) => e.event === '$experiment_started');
    await server.waitFor(() => exposures().length === 1 && started().length === 1);
    const [viewed] = exposures();
    expect(started()[0]?.properties).toMatchObject({
      'Experiment name': 'checkout_redesign_ab',
      'Variant name': viewed?.properties.variation_key,
      flag_key: 'checkout_redesign',
      $insert_id: viewed?.properties.$insert_id,
      time: viewed?.properties.time,
    });

    // An invalid format is warned about and the default applies: the exposure alone.
    server.reset();
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text());
    });
    await open('index.html?user=user-456&format=bogus');
    await drain();
    expect(exposures()).toHaveLength(1);
    expect(started()).toEqual([]);
    expect(warnings.some((w) => w.includes('eventFormat is invalid'))).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('a corrupt or foreign dedup memory in sessionStorage leaves dedup to the page', async () => {
    for (const stored of ['{not json', '{"a":1}', '[1,2]', '[["17:checkout_redesignuser-123",7]]']) {
      server.reset();
      await context.close();
      context = await browser.newContext();
      page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.addInitScript((value) => sessionStorage.setItem('__optimizely_mixpanel_seen', value), stored);
      await open('index.html?user=user-123');
      await server.waitFor(() => exposures().length === 1);
      expect(await pageStats()).toMatchObject({ exposed: 1, skipped: { duplicate: 2 } });
    }
    expect(pageErrors).toEqual([]);
  });

  it('an opted-out user sends nothing', async () => {
    await open('index.html?user=user-123&optout=1');
    await page.evaluate(() => (window as unknown as { app: { purchase(): void } }).app.purchase());
    // Every decision was seen and refused before reaching mixpanel-browser, which itself queues nothing.
    expect(await skipped('opted_out')).toBe(3);
    const queued = await page.evaluate(() =>
      Object.keys(localStorage)
        .filter((key) => key.startsWith('__mpq_'))
        .map((key) => JSON.parse(localStorage.getItem(key) ?? '[]').length)
        .reduce((a: number, b: number) => a + b, 0),
    );
    expect(queued).toBe(0);
    expect(server.events).toHaveLength(0);
    expect(server.profiles.size).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('the app keeps working when the Mixpanel host is unreachable', async () => {
    const variation = await open('index.html?user=user-123&api_host=http://127.0.0.1:9');
    expect(variation).toBe('variation_a');
    const again = await page.evaluate(() =>
      (window as unknown as { app: { decideAgain(): string } }).app.decideAgain(),
    );
    expect(again).toBe('variation_a');
    expect(pageErrors).toEqual([]);
  });
});
