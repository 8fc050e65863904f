// decide() throughput of SDK 6.6.1 in one process: with no instrumentation (the baseline), with the
// hand-written DECISION listener from the usual guide (mixpanel.track + people.set per decision),
// and with this instrumentation (normalize, dedup, span event check, batched export). Mixpanel is
// the local Mixpanel-compatible server in a child process.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';
import Mixpanel from 'mixpanel';

const require = createRequire(import.meta.url);
delete process.env.HTTP_PROXY;
delete process.env.HTTPS_PROXY;
const TOKEN = 'bench-token';
const datafile = readFileSync(new URL('../../../test/fixtures/datafile.json', import.meta.url), 'utf8');

const { url: serverUrl } = await spawnLocalServer();
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
const rounds = { plain: [], instrumented: [], plainNew: [], instrumentedNew: [], ratio: [], ratioNew: [] };
// Pairs of rounds, alternating which goes first; the cost is the median of the per-pair ratios, which
// cancels the drift (frequency, GC, the other core's load) that shifts both halves of a pair alike.
for (let r = 0; r < 15; r++) {
  const first = r % 2 === 0 ? plain : instrumented;
  const second = first === plain ? instrumented : plain;
  const a = rate(first, returning, 100_000);
  const b = rate(second, returning, 100_000);
  const [p, i] = first === plain ? [a, b] : [b, a];
  rounds.plain.push(p);
  rounds.instrumented.push(i);
  rounds.ratio.push(i / p);
}
for (let r = 0; r < 6; r++) {
  const p = rate(plain, newUsers(20_000), 20_000);
  const i = rate(instrumented, newUsers(20_000), 20_000);
  rounds.plainNew.push(p);
  rounds.instrumentedNew.push(i);
  rounds.ratioNew.push(i / p);
  await instrumentation.flush(); // delivery happens between rounds, as it would between requests
}
// The hand-written listener sends two requests per decision; fewer decisions keep its sockets bounded.
const handWrittenRate = rate(handWritten, newUsers(3000), 3000);
await new Promise((resolve) => setTimeout(resolve, 3000));
const handWrittenReturning = rate(handWritten, returning.slice(0, 300), 3000);
await instrumentation.flush();
const stats = instrumentation.exporter.stats();

const quartiles = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return [sorted[Math.floor(sorted.length / 4)], sorted[Math.floor((3 * sorted.length) / 4)]];
};
const base = median(rounds.plain);
const baseNew = median(rounds.plainNew);
const ratio = median(rounds.ratio);
const ratioNew = median(rounds.ratioNew);
const row = (name, returningRate, returningRatio, newRate, newRatio) => ({
  listener: name,
  'returning users: decide()/s': Math.round(returningRate),
  'vs none': `${(returningRatio * 100).toFixed(1)}%`,
  'new users: decide()/s': Math.round(newRate),
  'vs none (new)': `${(newRatio * 100).toFixed(1)}%`,
});
console.log(`node: decide() throughput, SDK 6.6.1, Node ${process.version} (medians of paired, interleaved rounds)`);
console.table([
  row('none (baseline)', base, 1, baseNew, 1),
  row('this instrumentation', median(rounds.instrumented), ratio, median(rounds.instrumentedNew), ratioNew),
  row(
    'hand-written (track + people.set)',
    handWrittenReturning,
    handWrittenReturning / base,
    handWrittenRate,
    handWrittenRate / baseNew,
  ),
]);
const [q1, q3] = quartiles(rounds.ratio);
console.log(
  `instrumentation cost: ${(100 - ratio * 100).toFixed(1)}% of decide() throughput for returning users ` +
    `(interquartile range of the 15 pairs: ${(100 - q3 * 100).toFixed(1)}% to ${(100 - q1 * 100).toFixed(1)}%), ` +
    `${(100 - ratioNew * 100).toFixed(1)}% for first exposures; ` +
    `${stats.exported} records exported, ${Object.values(stats.dropped).reduce((a, b) => a + b, 0)} dropped, ${instrumentation.stats().skipped.duplicate ?? 0} duplicates skipped`,
);
await instrumentation.shutdown();
process.exit(0);
