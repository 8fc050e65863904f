// One process of first-exposure-steps.bench.mjs: SDK 6 with a DECISION listener doing the first
// `step` parts of what the preload does with a first exposure, built from the same public pieces:
//   node first-exposure-steps.worker.cjs <none|empty|handle|json|context|export|export-fetch>
// Each round decides for 2000 new users, then idles as between requests while the exporter sends;
// the CPU time of this process and of its main thread are reported per decide() over the rounds.
'use strict';
const { readFileSync } = require('node:fs');
const sdk = require('optimizely-sdk-v6');
const { createClient } = require('./sdk-client.cjs');
const { DecisionPipeline, exposureJson } = require('@optimizely-mixpanel/core');
const { MixpanelExporter } = require('@optimizely-mixpanel/exporter');
const { ExperimentContextStore } = require('../dist/experiment-context.js');

const step = process.argv[2];
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 30;
const client = createClient(sdk);
const pipeline = new DecisionPipeline({});
const store = new ExperimentContextStore();
/** The platform's fetch as the transport, for comparison with the exporter's own (node:http). */
class FetchTransport {
  constructor(base) {
    this.base = base;
  }
  target(endpoint) {
    return { url: `${this.base}/${endpoint}` };
  }
  async send(request) {
    const response = await fetch(`${this.base}/${request.endpoint}?verbose=1&ip=0`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: request.bytes ?? request.body,
      signal: request.signal,
      redirect: 'manual',
    });
    const body = await response.text();
    return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
  }
}
const exporter = step.startsWith('export')
  ? new MixpanelExporter({
      token: 'bench-token',
      apiHost: process.env.URL,
      transport: step === 'export-fetch' ? new FetchTransport(process.env.URL) : undefined,
    })
  : undefined;
let sink = 0;
const handle = (n) => pipeline.handle(n).exposure;
const remember = (e) => store.set(e.distinctId, e.profileProperty.name, e.profileProperty.value, e.timestamp);
const listeners = {
  empty: () => {},
  handle: (n) => handle(n),
  json: (n) => {
    const e = handle(n);
    if (e) sink += exposureJson(e).profileUpdate.bytes;
  },
  context: (n) => {
    const e = handle(n);
    if (e) {
      sink += exposureJson(e).profileUpdate.bytes;
      remember(e);
    }
  },
  export: (n) => {
    const e = handle(n);
    if (e) {
      remember(e);
      exporter.export(e);
    }
  },
};
listeners['export-fetch'] = listeners.export;
if (listeners[step])
  client.notificationCenter.addNotificationListener(sdk.NOTIFICATION_TYPES.DECISION, listeners[step]);

/** CPU ticks (1/100 s) of this process's main thread, from /proc. */
const mainTicks = () => {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
let next = 0;
const round = async () => {
  for (let i = 0; i < 2000; i++) client.createUserContext(`new-${process.pid}-${next++}`).decide('checkout_redesign');
  if (exporter) await exporter.flush();
  await new Promise((resolve) => setTimeout(resolve, 100));
};
(async () => {
  for (let w = 0; w < 5; w++) await round();
  const ticks = mainTicks();
  const cpu = process.cpuUsage();
  for (let r = 0; r < ROUNDS; r++) await round();
  const used = process.cpuUsage(cpu);
  const decisions = ROUNDS * 2000;
  process.stdout.write(
    `${JSON.stringify({ step, total: (used.user + used.system) / decisions, main: ((mainTicks() - ticks) * 1e4) / decisions, sink: sink > 0 || !['json', 'context'].includes(step) })}\n`,
  );
  await exporter?.shutdown();
  process.exit(0);
})();
