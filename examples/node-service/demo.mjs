// `pnpm demo`: the project's whole job on this machine, with nothing but the repository.
// 1. starts a local Mixpanel-compatible server and a local OTLP receiver (stand-ins for Mixpanel and
//    for Jaeger/Tempo/Honeycomb), 2. starts server.cjs under the preload, 3. sends it traffic for
//    many users (each user loads the page several times), 4. stops it with SIGTERM (the preload
//    flushes), 5. prints what "Mixpanel" received and the spans, and says what each part means.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalMixpanelServer, OtlpReceiver, summarize } from '@optimizely-mixpanel/local-server';

const here = dirname(fileURLToPath(import.meta.url));
const USERS = Number(process.env.DEMO_USERS ?? 200);
const VISITS = 3;
const TOKEN = 'demo-project-token';
const FLAGS = ['checkout_redesign', 'premium_banner'];

/** Rule key → what kind of rule it is, read from the datafile the service uses. */
function ruleKinds(datafile) {
  const kinds = new Map();
  for (const experiment of datafile.experiments ?? []) kinds.set(experiment.key, 'experiment (A/B test)');
  for (const rollout of datafile.rollouts ?? []) {
    for (const rule of rollout.experiments ?? []) {
      kinds.set(rule.key, rule.key.startsWith('default-rollout-') ? 'rollout: everyone else' : 'rollout: targeted');
    }
  }
  return kinds;
}
const KINDS = ruleKinds(JSON.parse(readFileSync(join(here, 'datafile.json'), 'utf8')));
const kindOf = (ruleKey) => KINDS.get(ruleKey) ?? 'unknown rule';

const mask = (value) => (typeof value === 'string' && value.length > 0 ? '<masked>' : value);

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function heading(text) {
  console.log(`\n${text}\n${'='.repeat(text.length)}`);
}

const mixpanel = new LocalMixpanelServer({ token: TOKEN });
const otlp = new OtlpReceiver();
const [mixpanelUrl, otlpUrl] = await Promise.all([mixpanel.start(), otlp.start()]);
// The spool (records kept for a later run when Mixpanel cannot take them) in a folder of the demo's
// own, removed at the end: a service's default is a folder under the user's state directory.
const spoolDir = mkdtempSync(join(tmpdir(), 'optimizely-mixpanel-demo-'));

const service = spawn(process.execPath, ['--require', '@optimizely-mixpanel/node/register', join(here, 'server.cjs')], {
  cwd: here,
  env: {
    PATH: process.env.PATH,
    PORT: '0',
    MIXPANEL_TOKEN: TOKEN,
    MIXPANEL_API_HOST: mixpanelUrl,
    OPTIMIZELY_MIXPANEL_SPOOL_DIR: spoolDir,
    OTEL_SERVICE_NAME: 'checkout-service',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const serviceUrl = await new Promise((resolve, reject) => {
  let out = '';
  service.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /listening on (\S+)/.exec(out);
    if (match) resolve(match[1]);
  });
  service.on('exit', (code) => reject(new Error(`the service exited early (${code}): ${out}`)));
});

console.log(`examples/node-service/server.cjs is an ordinary service on the Optimizely SDK: no Mixpanel, no
OpenTelemetry in its code. It runs under \`node --require @optimizely-mixpanel/node/register\`, which
sends its decisions to Mixpanel (here a local stand-in) and its spans to an OTLP receiver (here a local
one). Each visit to /checkout decides two flags:
  checkout_redesign  an A/B test (rule checkout_redesign_ab: control / variation_a, 50/50)
  premium_banner     a rollout, not an experiment: on for users in the premium_users segment
                     (targeted rule premium_segment_rule), off for everyone else
service: ${serviceUrl}   local Mixpanel: ${mixpanelUrl}   local OTLP receiver: ${otlpUrl}`);

let requests = 0;
for (let visit = 0; visit < VISITS; visit++) {
  const batch = [];
  for (let i = 0; i < USERS; i++) {
    const plan = i % 10 === 0 ? 'premium' : 'free';
    batch.push(fetch(`${serviceUrl}/checkout?user=user-${i}&plan=${plan}`).then((r) => r.json()));
  }
  await Promise.all(batch);
  requests += batch.length;
}

const exited = new Promise((resolve) => service.on('exit', (code, signal) => resolve({ code, signal })));
service.kill('SIGTERM');
const { signal } = await exited;
await otlp.waitFor((spans) => spans.some((s) => s.name === 'POST /engage'), 10_000).catch(() => {});
console.log(
  `\n${requests} requests: ${USERS} users, ${VISITS} visits each, ${FLAGS.length} flags decided per visit ` +
    `(${requests * FLAGS.length} decisions); the service was stopped with ${signal} and flushed on its way out.`,
);

heading('What Mixpanel received');
const events = mixpanel.events;
const updates = mixpanel.store.profileUpdates;
const summary = summarize(mixpanel);
console.log(
  `${events.length} events in ${mixpanel.requests.filter((r) => r.path === '/track').length} POST /track, ` +
    `${updates.length} profile updates in ${mixpanel.requests.filter((r) => r.path === '/engage').length} POST /engage, ` +
    `${summary.profiles} profiles. Repeated decisions (every visit decides again) were deduplicated in the ` +
    `service: ${summary.duplicatesDropped} duplicates reached Mixpanel.`,
);

const sampleEvent = events.find((e) => kindOf(e.properties.rule_key).startsWith('experiment')) ?? events[0];
if (sampleEvent) {
  console.log('\nOne exposure event, as POST /track carried it (token masked):');
  const properties = { ...sampleEvent.properties, token: mask(sampleEvent.properties.token) };
  console.log(JSON.stringify({ event: sampleEvent.event, properties }, null, 2));
}
const sampleUpdate = updates.find((u) => u.distinctId === sampleEvent?.properties.distinct_id) ?? updates[0];
if (sampleUpdate) {
  console.log('\nOne profile update, as POST /engage carried it (token masked):');
  console.log(JSON.stringify({ ...sampleUpdate.record, $token: mask(sampleUpdate.record.$token) }, null, 2));
}

console.log('\nExposure events by rule kind (an exposure event means "this user is in this experiment"):');
const byRule = new Map();
for (const { properties: p } of events) {
  const key = JSON.stringify([kindOf(p.rule_key), p.flag_key, p.rule_key, p.variation_key]);
  byRule.set(key, (byRule.get(key) ?? 0) + 1);
}
const eventRows = [...byRule].map(([key, count]) => [...JSON.parse(key), count]).sort((a, b) => (a < b ? -1 : 1));
console.log(table(['rule kind', 'flag', 'rule', 'variation', 'events'], eventRows));
const rolloutEvents = eventRows.filter((r) => r[0].startsWith('rollout')).reduce((n, r) => n + r[4], 0);
console.log(
  rolloutEvents > 0
    ? `${rolloutEvents} of these events come from rollout rules: they deliver a flag, they are not experiments.`
    : 'Rollout decisions sent no exposure event: they deliver a flag, they are not experiments; their users get the profile property below.',
);

console.log('\nProfile properties (one per flag, on every user who got a decision):');
const profileRows = Object.entries(summary.profileProperties).flatMap(([name, values]) =>
  Object.entries(values).map(([value, count]) => [name, value, count]),
);
console.log(table(['property', 'value', 'profiles'], profileRows));
console.log(
  `Why ${updates.length} /engage updates for ${summary.profiles} profiles: each is one \`$set\` of ` +
    `\`[Optimizely] <flag>\` for one user and one flag (${FLAGS.length} flags here), and Mixpanel merges them ` +
    "into that user's one profile. Repeated decisions add no update.",
);

heading('Spans (as a tracing backend shows them)');
const spans = otlp.spans;
const requestSpans = spans.filter((s) => s.kind === 2 && s.name.startsWith('GET'));
const evaluations = requestSpans.flatMap((s) => s.events.filter((e) => e.name === 'feature_flag.evaluation'));
const exports = spans.filter((s) => s.name.startsWith('POST /'));
const outcome = {};
for (const e of evaluations) {
  const key = e.attributes['optimizely.exposure'];
  outcome[key] = (outcome[key] ?? 0) + 1;
}
console.log(
  `${spans.length} spans: ${requestSpans.length} request spans (one per visit), ${exports.length} export spans (one per request to Mixpanel)`,
);
console.log(
  `feature_flag.evaluation events on the request spans: ${evaluations.length}, one per decision (${Object.entries(
    outcome,
  )
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')})`,
);
const sample = requestSpans.find((s) => s.events.some((e) => e.attributes['optimizely.exposure'] === 'exported'));
if (sample) {
  const linkedBy = exports.find((s) => s.links.some((l) => l.spanId === sample.spanId));
  console.log(`\none visit's trace: ${sample.traceId}`);
  console.log(`  ${sample.name}  [${sample.scope}]`);
  for (const e of sample.events) {
    const a = e.attributes;
    console.log(
      `    event ${e.name}: ${a['feature_flag.key']} = ${a['feature_flag.result.variant']} (reason ${a['feature_flag.result.reason']}, ${a['optimizely.exposure']})`,
    );
  }
  if (linkedBy) {
    console.log(`  linked from the export's trace ${linkedBy.traceId}:`);
    console.log(
      `    ${linkedBy.name}  ${linkedBy.attributes['mixpanel.records.count']} records, HTTP ${linkedBy.attributes['http.response.status_code']}, ${linkedBy.links.length} links`,
    );
  }
}
console.log('\nexport spans:');
console.log(
  table(
    ['span', 'records', 'HTTP', 'links'],
    exports.map((s) => [
      s.name,
      s.attributes['mixpanel.records.count'],
      s.attributes['http.response.status_code'],
      s.links.length,
    ]),
  ),
);
console.log(`Links: an export span runs in a trace of its own and links to the request spans whose decisions it
carries, one link per request span, so a visit's trace leads to the request that delivered its exposures.
At most 128 links per export span (OpenTelemetry's default link limit): a batch made by more visits than
that links the first 128; the others still show their feature_flag.evaluation events.
Reasons: split = an experiment's traffic split, targeting_match = a targeted rule, default = everyone else.`);

await mixpanel.stop();
await otlp.stop();
rmSync(spoolDir, { recursive: true, force: true });

// Every user got one exposure for the experiment and both profile properties; nothing twice.
const experimentEvents = events.filter((e) => kindOf(e.properties.rule_key).startsWith('experiment'));
const keys = new Set(events.map((e) => `${e.event}/${e.properties.distinct_id}/${e.properties.flag_key}`));
const complete = [...mixpanel.profiles.values()].filter((p) => FLAGS.every((f) => `[Optimizely] ${f}` in p));
const problems = [
  experimentEvents.length !== USERS && `${experimentEvents.length} experiment exposures, expected ${USERS}`,
  keys.size !== events.length && `${events.length - keys.size} exposure events repeated`,
  complete.length !== USERS && `${complete.length} complete profiles, expected ${USERS}`,
].filter(Boolean);
if (problems.length > 0) {
  console.error(`\nthe demo did not get what it expected: ${problems.join('; ')}`);
  process.exit(1);
}
