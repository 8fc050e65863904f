// One process of listener-floor.bench.mjs: first exposures (2000 new users a round) with no listener,
// an empty listener, the minimal complete listener stopped after each of its steps (remembering the
// user; building the two records), the whole minimal listener (records kept and sent) and this
// instrumentation, each on a client of its own, in rounds that take turns in a balanced order.
// A round lasts until what it queued is delivered.
//   node listener-floor-worker.cjs <sdk major>      (MIXPANEL_TOKEN and MIXPANEL_API_HOST set)
// Prints one JSON line: per mode, the median CPU µs per decide() and the median ratio of each round
// to the no-listener round of the same turn.
'use strict';
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { OptimizelyMixpanelInstrumentation } = require('@optimizely-mixpanel/node');
const { createClient } = require('./sdk-client.cjs');
const { balancedOrders, median } = require('./spread.cjs');
const { addMinimalListener } = require('./minimal-listener.cjs');

const instrumentation = new OptimizelyMixpanelInstrumentation();
registerInstrumentations({ instrumentations: [instrumentation] });
const sdk = require(process.argv[2] === '5' ? 'optimizely-sdk-v5' : 'optimizely-sdk-v6');
if (typeof sdk.createInstance.__original !== 'function') throw new Error('the SDK is not instrumented');
const { MIXPANEL_API_HOST: host, MIXPANEL_TOKEN: token } = process.env;

const MODES = ['none', 'empty', 'remember', 'build', 'minimal', 'instrumented'];
const plain = () => createClient(sdk, sdk.createInstance.__original);
const clients = { none: plain(), empty: plain(), remember: plain(), build: plain(), minimal: plain() };
clients.instrumented = createClient(sdk);
const types = sdk.NOTIFICATION_TYPES ?? sdk.enums.NOTIFICATION_TYPES;
clients.empty.notificationCenter.addNotificationListener(types.DECISION, () => {});
const listeners = {
  remember: addMinimalListener(sdk, clients.remember, host, token, 'remember'),
  build: addMinimalListener(sdk, clients.build, host, token, 'build'),
  minimal: addMinimalListener(sdk, clients.minimal, host, token),
};
const USERS = 2000;
let nextUser = 0;
const rounds = Object.fromEntries(MODES.map((m) => [m, 0]));

async function round(mode) {
  const client = clients[mode];
  const list = Array.from({ length: USERS }, () => client.createUserContext(`new-${nextUser++}`));
  const start = process.cpuUsage();
  for (let i = 0; i < list.length; i++) list[i].decide('checkout_redesign');
  if (mode === 'instrumented') await instrumentation.flush();
  else if (listeners[mode]) await listeners[mode].flush();
  const used = process.cpuUsage(start);
  rounds[mode]++;
  return (used.user + used.system) / USERS;
}

(async () => {
  for (let w = 0; w < 2; w++) for (const mode of MODES) await round(mode);
  const orders = balancedOrders(MODES.length);
  const us = Object.fromEntries(MODES.map((m) => [m, []]));
  const ITERATIONS = 2 * orders.length;
  for (let r = 0; r < ITERATIONS; r++) {
    for (const m of orders[r % orders.length]) us[MODES[m]].push(await round(MODES[m]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Every step did its work: each user remembered, records built, sent and delivered.
  const exposures = (mode) => rounds[mode] * USERS;
  if (listeners.remember.remembered !== exposures('remember')) throw new Error('remember: a user was not kept');
  if (listeners.build.builtChars === 0) throw new Error('build: nothing was built');
  if (listeners.minimal.sent !== 2 * exposures('minimal')) throw new Error('minimal: a record was not sent');
  const delivered = instrumentation.exporter?.stats().exported;
  if (delivered !== 2 * exposures('instrumented')) throw new Error(`${delivered} records delivered`);
  const result = {};
  for (const mode of MODES) {
    result[mode] = { us: median(us[mode]), ratio: median(us[mode].map((x, i) => us.none[i] / x)) };
  }
  console.log(JSON.stringify(result));
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
