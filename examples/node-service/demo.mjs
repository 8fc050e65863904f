// `pnpm demo`: the project's whole job on this machine, with nothing but the repository.
// 1. starts a local Mixpanel-compatible server and a local OTLP receiver (stand-ins for Mixpanel and
//    for Jaeger/Tempo/Honeycomb), 2. starts server.cjs under the preload, 3. sends it traffic for
//    many users (each user loads the page several times), 4. stops it with SIGTERM (the preload
//    flushes), 5. prints what "Mixpanel" received and the spans.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, LocalMixpanelServer, OtlpReceiver } from '@optimizely-mixpanel/local-server';

const here = dirname(fileURLToPath(import.meta.url));
const USERS = Number(process.env.DEMO_USERS ?? 200);
const VISITS = 3;
const TOKEN = 'demo-project-token';

const mixpanel = new LocalMixpanelServer({ token: TOKEN });
const otlp = new OtlpReceiver();
const [mixpanelUrl, otlpUrl] = await Promise.all([mixpanel.start(), otlp.start()]);

const service = spawn(process.execPath, ['--require', '@optimizely-mixpanel/node/register', join(here, 'server.cjs')], {
  cwd: here,
  env: {
    PATH: process.env.PATH,
    PORT: '0',
    MIXPANEL_TOKEN: TOKEN,
    MIXPANEL_API_HOST: mixpanelUrl,
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
console.log(`service under the preload: ${serviceUrl}`);
console.log(`local Mixpanel: ${mixpanelUrl}   local OTLP receiver: ${otlpUrl}\n`);

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
  `${requests} requests from ${USERS} users (${VISITS} visits each, 2 flags decided per visit); service ended by ${signal}\n`,
);
console.log('What Mixpanel received');
console.log('======================');
console.log(formatTable(mixpanel));

const spans = otlp.spans;
const requestSpans = spans.filter((s) => s.kind === 2 && s.name.startsWith('GET'));
const evaluations = requestSpans.flatMap((s) => s.events.filter((e) => e.name === 'feature_flag.evaluation'));
const exports = spans.filter((s) => s.name.startsWith('POST /'));
const outcome = {};
for (const e of evaluations)
  outcome[e.attributes['optimizely.exposure']] = (outcome[e.attributes['optimizely.exposure']] ?? 0) + 1;
console.log('\nSpans (as a tracing backend shows them)');
console.log('=======================================');
console.log(`${spans.length} spans: ${requestSpans.length} request spans, ${exports.length} export spans to Mixpanel`);
console.log(
  `feature_flag.evaluation events on request spans: ${evaluations.length} (${Object.entries(outcome)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')})`,
);
const sample = requestSpans.find((s) => s.events.some((e) => e.attributes['optimizely.exposure'] === 'exported'));
if (sample) {
  const linkedBy = exports.find((s) => s.links.some((l) => l.spanId === sample.spanId));
  console.log(`\none trace: ${sample.traceId}`);
  console.log(`  ${sample.name}  [${sample.scope}]`);
  for (const e of sample.events) {
    const a = e.attributes;
    console.log(
      `    event ${e.name}: ${a['feature_flag.key']} = ${a['feature_flag.result.variant']} (${a['feature_flag.result.reason']}, ${a['optimizely.exposure']})`,
    );
  }
  if (linkedBy) {
    console.log(`  linked from trace ${linkedBy.traceId}:`);
    console.log(
      `    ${linkedBy.name}  ${linkedBy.attributes['mixpanel.records.count']} records, HTTP ${linkedBy.attributes['http.response.status_code']}, ${linkedBy.links.length} links`,
    );
  }
}
for (const s of exports.slice(0, 6)) {
  console.log(
    `${s.name.padEnd(13)} records=${String(s.attributes['mixpanel.records.count']).padEnd(5)} status=${s.attributes['http.response.status_code']} links=${s.links.length}`,
  );
}

await mixpanel.stop();
await otlp.stop();
// checkout_redesign is an experiment (an exposure event per user); premium_banner is a rollout,
// which sets the profile property without an exposure event.
const expected = USERS;
if (mixpanel.events.length !== expected) {
  console.error(
    `\nexpected ${expected} exposure events (one per user, experiments only), got ${mixpanel.events.length}`,
  );
  process.exit(1);
}
