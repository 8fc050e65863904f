// decide() throughput of SDK 6.6.1 in one process: with no instrumentation (the baseline), with the
// hand-written DECISION listener from the usual guide (mixpanel.track + people.set per decision),
// and with this instrumentation (normalize, dedup, span event check, batched export). Mixpanel is
// the local Mixpanel-compatible server in a child process.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Mixpanel from 'mixpanel';

const require = createRequire(import.meta.url);
delete process.env.HTTP_PROXY;
delete process.env.HTTPS_PROXY;
const TOKEN = 'bench-token';
const datafile = readFileSync(new URL('../../../../shared/fixtures/datafile.json', import.meta.url), 'utf8');

async function startServer() {
  const cli = require.resolve('@optimizely-mixpanel/local-server/package.json').replace('package.json', 'dist/cli.js');
  const child = spawn(process.execPath, [cli, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
  });
  process.on('exit', () => child.kill('SIGKILL'));
  return url;
}

const serverUrl = await startServer();
const { OptimizelyMixpanelInstrumentation } = require('../dist/index.js');
// A queue large enough for the bursts below: the benchmark decides faster than any service serves requests.
const instrumentation = new OptimizelyMixpanelInstrumentation({
  token: TOKEN,
  apiHost: serverUrl,
  enabled: false,
  exporterConfig: { maxQueueSize: 200_000 },
});
// Resolved as `@optimizely/optimizely-sdk` (the alias points at the same package), so the hook applies.
const sdk = require('optimizely-sdk-v6');
const create = () => sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });

const plain = create();
const handWritten = create();
const mixpanel = Mixpanel.init(TOKEN, { host: new URL(serverUrl).host, protocol: 'http' });
handWritten.notificationCenter.addNotificationListener(
  sdk.NOTIFICATION_TYPES.DECISION,
  ({ type, userId, decisionInfo }) => {
    if (type !== 'flag') return;
    mixpanel.track('Experiment Viewed', {
      distinct_id: userId,
      flag_key: decisionInfo.flagKey,
      variation_key: decisionInfo.variationKey,
      rule_key: decisionInfo.ruleKey,
    });
    mixpanel.people.set(userId, { [`[Optimizely] ${decisionInfo.flagKey}`]: decisionInfo.variationKey });
  },
);
instrumentation.enable();
const instrumented = create();
if (!instrumentation.instrumentClient(instrumented)) throw new Error('not instrumented');

function rate(client, users, ops) {
  const contexts = users.map((id) => client.createUserContext(id));
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) contexts[i % contexts.length].decide('checkout_redesign');
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const returning = Array.from({ length: 1000 }, (_, i) => `returning-${i}`);
let fresh = 0;
const newUsers = (n) => Array.from({ length: n }, () => `new-${fresh++}`);

// Warm-up, then interleaved rounds so drift hits every contender alike. Returning users (the
// common case: every request and render decides again) and first exposures are measured in
// separate phases, so the garbage and export work of one does not land in the other's rounds.
rate(plain, returning, 20_000);
rate(instrumented, returning, 20_000);
const rounds = { plain: [], instrumented: [], plainNew: [], instrumentedNew: [] };
for (let r = 0; r < 7; r++) {
  rounds.plain.push(rate(plain, returning, 200_000));
  rounds.instrumented.push(rate(instrumented, returning, 200_000));
}
for (let r = 0; r < 5; r++) {
  rounds.plainNew.push(rate(plain, newUsers(20_000), 20_000));
  rounds.instrumentedNew.push(rate(instrumented, newUsers(20_000), 20_000));
  await instrumentation.flush(); // delivery happens between rounds, as it would between requests
}
// The hand-written listener sends two requests per decision; fewer decisions keep its sockets bounded.
const handWrittenRate = rate(handWritten, newUsers(3000), 3000);
await new Promise((resolve) => setTimeout(resolve, 3000));
const handWrittenReturning = rate(handWritten, returning.slice(0, 300), 3000);
await instrumentation.flush();
const stats = instrumentation.exporter.stats();

const base = median(rounds.plain);
const baseNew = median(rounds.plainNew);
const row = (name, returningRate, newRate) => ({
  listener: name,
  'returning users: decide()/s': Math.round(returningRate),
  'vs none': `${((returningRate / base) * 100).toFixed(1)}%`,
  'new users: decide()/s': Math.round(newRate),
  'vs none (new)': `${((newRate / baseNew) * 100).toFixed(1)}%`,
});
console.log(`node: decide() throughput, SDK 6.6.1, Node ${process.version} (medians of interleaved rounds)`);
console.table([
  row('none (baseline)', base, baseNew),
  row('this instrumentation', median(rounds.instrumented), median(rounds.instrumentedNew)),
  row('hand-written (track + people.set)', handWrittenReturning, handWrittenRate),
]);
console.log(
  `instrumentation cost: ${(100 - (median(rounds.instrumented) / base) * 100).toFixed(1)}% of decide() throughput for returning users, ` +
    `${(100 - (median(rounds.instrumentedNew) / baseNew) * 100).toFixed(1)}% for first exposures; ` +
    `${stats.exported} records exported, ${Object.values(stats.dropped).reduce((a, b) => a + b, 0)} dropped, ${stats.skipped.duplicate ?? 0} duplicates skipped`,
);
await instrumentation.shutdown();
process.exit(0);
