// One process of latency.bench.mjs: SDK 6 deciding for new users, with no listener and with this
// instrumentation, in alternating rounds of 2000; each decide() timed alone. A round with the
// instrumentation lasts until the exporter has delivered its records, so every batch it fills is
// built and sent within the rounds.
//   node latency-worker.cjs      (MIXPANEL_TOKEN and MIXPANEL_API_HOST set)
// Prints one JSON line: per mode, percentiles of every decide()'s µs in the measured rounds, and
// each round's slowest.
'use strict';
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { OptimizelyMixpanelInstrumentation } = require('@optimizely-mixpanel/node');
const { createClient } = require('./sdk-client.cjs');
const { quantile } = require('./spread.cjs');

const instrumentation = new OptimizelyMixpanelInstrumentation();
registerInstrumentations({ instrumentations: [instrumentation] });
const sdk = require('optimizely-sdk-v6');
if (typeof sdk.createInstance.__original !== 'function') throw new Error('the SDK is not instrumented');

const clients = { none: createClient(sdk, sdk.createInstance.__original), instrumented: createClient(sdk) };
const USERS = 2000;
const ROUNDS = 16;
let nextUser = 0;

async function round(mode, out) {
  const client = clients[mode];
  const users = Array.from({ length: USERS }, () => client.createUserContext(`new-${nextUser++}`));
  let slowest = 0;
  for (let i = 0; i < USERS; i++) {
    const start = process.hrtime.bigint();
    users[i].decide('checkout_redesign');
    const us = Number(process.hrtime.bigint() - start) / 1000;
    if (out) out.all.push(us);
    if (us > slowest) slowest = us;
  }
  if (mode === 'instrumented') await instrumentation.flush();
  out?.slowest.push(slowest);
}

(async () => {
  for (let w = 0; w < 3; w++) {
    await round('none');
    await round('instrumented');
  }
  const results = { none: { all: [], slowest: [] }, instrumented: { all: [], slowest: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 ? ['none', 'instrumented'] : ['instrumented', 'none']) await round(mode, results[mode]);
  }
  const exposures = USERS * (3 + ROUNDS);
  if (instrumentation.exporter?.stats().exported !== 2 * exposures) throw new Error('records were not delivered');
  const summary = ({ all, slowest }) => {
    const sorted = all.sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), p999: quantile(sorted, 0.999), slowest };
  };
  process.stdout.write(
    `${JSON.stringify({ none: summary(results.none), instrumented: summary(results.instrumented) })}\n`,
    () => process.exit(0),
  );
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
