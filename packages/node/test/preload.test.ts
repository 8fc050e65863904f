import { LocalMixpanelServer, OtlpReceiver } from '@optimizely-mixpanel/local-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Run, spoolFiles, startNode, tempFolder } from './child.js';
import type { FIXTURES } from './helpers.js';

const TOKEN = 'preload-token-1a2b3c';
let server: LocalMixpanelServer;
let receiver: OtlpReceiver;
/** Each test its own spool: what one test leaves must not be replayed into the next. */
let folder: ReturnType<typeof tempFolder>;

beforeAll(async () => {
  server = new LocalMixpanelServer({ token: TOKEN });
  await server.start();
  receiver = new OtlpReceiver();
  await receiver.start();
});
afterAll(async () => {
  await server.stop();
  await receiver.stop();
});
beforeEach(() => {
  server.reset();
  receiver.spans.length = 0;
  folder = tempFolder('preload-spool-');
});
afterEach(() => folder.remove());

/** Starts a fixture app the way users do, with or without the preload flag. */
function runApp(
  fixture: keyof typeof FIXTURES,
  entry: string,
  flag: '--require' | '--import' | undefined,
  env: Record<string, string | undefined> = {},
): Promise<Run> {
  const args = flag ? [flag, '@optimizely-mixpanel/node/register', entry] : [entry];
  return startNode(fixture, args, {
    USERS: '10',
    MIXPANEL_TOKEN: TOKEN,
    MIXPANEL_API_HOST: server.url,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_SERVICE_NAME: `fixture-${fixture}`,
    OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS: '3000',
    OPTIMIZELY_MIXPANEL_SPOOL_DIR: `${folder.dir}/spool`,
    ...env,
  }).done;
}

const ROUTES = [
  ['sdk6', 'app.cjs', '--require'],
  ['sdk6', 'app.mjs', '--import'],
  ['sdk5', 'app.cjs', '--require'],
  ['sdk5', 'app.mjs', '--import'],
] as const;

describe.each(ROUTES)('%s %s with %s', (fixture, entry, flag) => {
  it('exports every exposure once, without changing the app', async () => {
    const plain = await runApp(fixture, entry, undefined, { MIXPANEL_TOKEN: undefined });
    const run = await runApp(fixture, entry, flag);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(plain.stdout);
    expect(run.stderr).toBe('');

    const exposures = server.events.map(
      (e) => `${e.properties.distinct_id} ${e.properties.flag_key}=${e.properties.variation_key}`,
    );
    // user-0 decided synchronously after createInstance; user-1..9 decided three times each.
    // The app prints what it was served; Mixpanel must have been told the same.
    const served = plain.stdout.split('\n').filter((line) => /^user-\d+ /.test(line));
    expect(served).toHaveLength(10);
    for (const line of served) expect(exposures).toContain(line);
    // decideAll: the experiment gives an exposure event; premium_banner is a rollout, profile only.
    expect(exposures.filter((e) => e.startsWith('user-all '))).toHaveLength(1);
    expect(exposures.filter((e) => e.startsWith('user-keys '))).toEqual([]);
    expect(exposures.filter((e) => e.startsWith('user-premium '))).toEqual([]);
    expect(server.events).toHaveLength(10 + 1);
    expect(server.store.duplicates).toBe(0);
    expect(server.profiles.get('user-premium')).toEqual({ '[Optimizely] premium_banner': 'on' });
    expect(server.profiles.get('user-keys')).toEqual({ '[Optimizely] premium_banner': 'off' });
    expect(server.profiles.size).toBe(13);
  });
});

describe('spans through OTLP', () => {
  it.each([
    ['sdk6', 'app.cjs', '--require'],
    ['sdk5', 'app.mjs', '--import'],
  ] as const)(
    '%s %s: request spans carry feature_flag.evaluation, export spans link back',
    async (fixture, entry, flag) => {
      const run = await runApp(fixture, entry, flag, { USERS: '4' });
      expect(run.code).toBe(0);
      await receiver.waitFor((spans) => spans.some((s) => s.name === 'POST /track'));
      const requests = receiver.spans.filter((s) => s.name === 'GET /checkout');
      expect(requests).toHaveLength(3);
      const evaluations = requests[0]?.events.filter((e) => e.name === 'feature_flag.evaluation') ?? [];
      expect(evaluations).toHaveLength(3);
      expect(evaluations[0]?.attributes).toMatchObject({
        'feature_flag.key': 'checkout_redesign',
        'feature_flag.provider.name': 'Optimizely',
        'feature_flag.result.reason': 'split',
        'feature_flag.set.id': 'production',
        'feature_flag.version': '1',
        'optimizely.exposure': 'exported',
      });
      expect(evaluations.slice(1).map((e) => e.attributes['optimizely.exposure'])).toEqual(['duplicate', 'duplicate']);
      expect(requests[0]?.resource['service.name']).toBe(`fixture-${fixture}`);

      const exports = receiver.spans.filter((s) => s.name === 'POST /track');
      const linked = new Set(exports.flatMap((s) => s.links.map((l) => l.spanId)));
      for (const request of requests) expect(linked.has(request.spanId)).toBe(true);
      expect(exports[0]?.attributes['http.response.status_code']).toBe(200);
      expect(JSON.stringify(receiver.rawBodies)).not.toContain(TOKEN);
    },
  );
});

describe('the preload never changes the app', () => {
  it.each([
    ['sdk6', 'threw'],
    ['sdk5', 'null'],
  ] as const)('invalid config on %s behaves as without us (%s)', async (fixture, outcome) => {
    const plain = await runApp(fixture, 'app.cjs', undefined, { SCENARIO: 'invalid-config' });
    const run = await runApp(fixture, 'app.cjs', '--require', { SCENARIO: 'invalid-config' });
    expect(plain.stdout).toContain(outcome);
    expect(run.stdout).toBe(plain.stdout);
    expect(run.code).toBe(plain.code);
  });

  it('no token: same output and exit code, one warning on stderr, nothing sent', async () => {
    const plain = await runApp('sdk6', 'app.cjs', undefined);
    const run = await runApp('sdk6', 'app.cjs', '--require', { MIXPANEL_TOKEN: undefined });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(plain.stdout);
    expect(run.stderr.match(/MIXPANEL_TOKEN is not set/g)).toHaveLength(1);
    expect(server.requests).toHaveLength(0);
  });

  it('bad token: same output and exit code; Mixpanel refuses and the refusal is reported', async () => {
    const plain = await runApp('sdk6', 'app.cjs', undefined);
    const run = await runApp('sdk6', 'app.cjs', '--require', { MIXPANEL_TOKEN: 'wrong-token-xyz' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(plain.stdout);
    expect(server.events).toHaveLength(0);
    expect(server.requests.every((r) => r.status === 401)).toBe(true);
    expect(run.stderr).toMatch(/refused the credentials/);
    expect(run.stderr).not.toContain('wrong-token-xyz');
  });

  it('Mixpanel down: same output and exit code; past the deadline the exposures are spooled for the next run', async () => {
    const plain = await runApp('sdk5', 'app.cjs', undefined);
    const run = await runApp('sdk5', 'app.cjs', '--require', {
      MIXPANEL_API_HOST: 'http://127.0.0.1:9', // nothing listens on the discard port
      OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS: '1000',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(plain.stdout);
    // One line, after the deadline gave up: nothing was lost, it all went to the spool.
    expect(run.stderr.match(/undelivered at exit/g)).toHaveLength(1);
    expect(run.stderr).toMatch(/(\d+) Mixpanel record\(s\) undelivered at exit: \1 written to the spool/);
    expect(run.stderr).not.toMatch(/lost/);
    expect(spoolFiles(`${folder.dir}/spool`).length).toBeGreaterThan(0);

    // Mixpanel is back for the next run, which sends the first run's exposures too.
    await runApp('sdk5', 'app.cjs', '--require', { USERS: '2' });
    // Mixpanel's dedup keeps one of each (event, time, distinct_id, $insert_id): the first run's all arrived.
    const users = new Set(server.events.map((e) => e.properties.distinct_id));
    expect([...users].sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `user-${i}`), 'user-all'].sort());
    expect(server.events.filter((e) => e.properties.distinct_id === 'user-9')).toHaveLength(1);
  }, 90_000); // three runs of the app

  it('an invalid setting is reported by name and the app runs unchanged', async () => {
    const plain = await runApp('sdk6', 'app.cjs', undefined);
    const run = await runApp('sdk6', 'app.cjs', '--require', {
      MIXPANEL_API_HOST: 'http://mixpanel-proxy.example.com',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(plain.stdout);
    expect(run.stderr).toMatch(/must use https/);
  });

  it('flushes on SIGTERM and still ends the way SIGTERM ends a process', async () => {
    const run = await runApp('sdk6', 'server.cjs', '--require');
    expect(run.signal).toBe('SIGTERM');
    expect(server.events.map((e) => e.properties.distinct_id)).toEqual(['user-sigterm']);
  });

  it('SIGTERM while Mixpanel is down: ends as SIGTERM does, and one line says what went to the spool', async () => {
    const run = await runApp('sdk6', 'server.cjs', '--require', {
      MIXPANEL_API_HOST: 'http://127.0.0.1:9', // nothing listens on the discard port
      OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS: '1000',
    });
    expect(run.signal).toBe('SIGTERM');
    // The signal ends the process without an 'exit' event: the line comes from the signal's path.
    expect(run.stderr.match(/undelivered at exit/g)).toHaveLength(1);
    expect(run.stderr).toMatch(/2 Mixpanel record\(s\) undelivered at exit: 2 written to the spool/);
    expect(run.stderr).not.toContain(TOKEN);
    expect(spoolFiles(`${folder.dir}/spool`).length).toBeGreaterThan(0);

    // The next run delivers them.
    await runApp('sdk6', 'server.cjs', '--require');
    const delivered = server.events.map((e) => e.properties.distinct_id);
    expect(delivered.filter((id) => id === 'user-sigterm').length).toBeGreaterThanOrEqual(1);
    expect(spoolFiles(`${folder.dir}/spool`)).toEqual([]);
  }, 60_000);

  it('the /universal subpath is instrumented too', async () => {
    const run = await runApp('sdk6', 'universal.cjs', '--require');
    expect(run.stdout.trim()).toBe('universal createInstance wrapped: true');
  });
});
