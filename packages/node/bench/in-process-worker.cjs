// One process of in-process.bench.mjs: the same SDK with no listener, with this instrumentation's
// listener disabled (the listener is there and returns at once: the floor), with the minimal
// complete listener (minimal-listener.cjs) and with this instrumentation enabled, in rounds that take
// turns in this one process, so the process's own speed is the same for all four.
// Returning users (2000, decided 10 times a round, exposed before the rounds) and first exposures
// (2000 new users a round; a listener's round lasts until its records are delivered).
//   node in-process-worker.cjs <sdk major>      (MIXPANEL_TOKEN and MIXPANEL_API_HOST set)
// Prints one JSON line: per kind, the median CPU µs per decide() of each, and the medians of the
// ratios of each round to the no-listener round of the same turn.
'use strict';
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { OptimizelyMixpanelInstrumentation } = require('@optimizely-mixpanel/node');
const { createClient } = require('./sdk-client.cjs');
const { balancedOrders, median } = require('./spread.cjs');
const { addMinimalListener } = require('./minimal-listener.cjs');

// BENCH_CONTEXT_MANAGER=1: a context manager registered, as an OpenTelemetry SDK registers one, with no
// span active around the decisions: the active-span check then runs in every decide().
if (process.env.BENCH_CONTEXT_MANAGER === '1') {
  const { context } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}
const instrumentation = new OptimizelyMixpanelInstrumentation();
registerInstrumentations({ instrumentations: [instrumentation] });
// Resolved through the pnpm store as @optimizely/optimizely-sdk, so the instrumentation patches it.
const sdk = require(process.argv[2] === '5' ? 'optimizely-sdk-v5' : 'optimizely-sdk-v6');
if (typeof sdk.createInstance.__original !== 'function') throw new Error('the SDK is not instrumented');

const plain = createClient(sdk, sdk.createInstance.__original);
const instrumented = createClient(sdk);
const referenceClient = createClient(sdk, sdk.createInstance.__original);
const reference = addMinimalListener(sdk, referenceClient, process.env.MIXPANEL_API_HOST, process.env.MIXPANEL_TOKEN);
const USERS = 2000;
const PASSES = 10;
const contexts = (client) => Array.from({ length: USERS }, (_, i) => client.createUserContext(`returning-${i}`));
const plainUsers = contexts(plain);
const users = contexts(instrumented);
const referenceUsers = contexts(referenceClient);

function round(list) {
  const start = process.cpuUsage();
  for (let p = 0; p < PASSES; p++) for (let i = 0; i < list.length; i++) list[i].decide('checkout_redesign');
  const used = process.cpuUsage(start);
  return (used.user + used.system) / (USERS * PASSES);
}
let nextUser = 0;
const newUsers = (client) => Array.from({ length: USERS }, () => client.createUserContext(`new-${nextUser++}`));
/** A round of first exposures, until the exporter has delivered them when the instrumentation is on. */
async function freshRound(client) {
  const list = newUsers(client);
  const start = process.cpuUsage();
  for (let i = 0; i < list.length; i++) list[i].decide('checkout_redesign');
  if (client === instrumented && instrumentation.isEnabled()) await instrumentation.flush();
  if (client === referenceClient) await reference.flush();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / USERS;
}

(async () => {
  // The users' first exposures, delivered before anything is measured.
  round(users);
  round(referenceUsers);
  await Promise.all([instrumentation.flush(), reference.flush()]);
  const stats = instrumentation.stats();
  if (stats.exported !== USERS) throw new Error(`expected ${USERS} exposures, got ${stats.exported}`);
  for (let w = 0; w < 3; w++) {
    round(plainUsers);
    round(users);
    round(referenceUsers);
  }
  await freshRound(plain);
  await freshRound(instrumented);
  await freshRound(referenceClient);
  // Returning rounds first, then first exposures: the garbage of a round of new users would weigh on
  // whichever returning round came next. Within a round of new users the garbage of the round before
  // is collected too, so the modes take turns in a balanced order (a Williams square): each mode comes
  // right after each other mode equally often, also across iterations, and none always pays for one.
  const MODES = ['none', 'floor', 'reference', 'instrumented'];
  const ORDERS = balancedOrders(MODES.length);
  const clients = { none: plain, floor: instrumented, reference: referenceClient, instrumented };
  const lists = { none: plainUsers, floor: users, reference: referenceUsers, instrumented: users };
  const ITERATIONS = 3 * ORDERS.length;
  const measure = async (run) => {
    const us = { none: [], floor: [], reference: [], instrumented: [] };
    for (let r = 0; r < ITERATIONS; r++) {
      for (const m of ORDERS[r % ORDERS.length]) {
        const mode = MODES[m];
        if (mode === 'floor') instrumentation.disable();
        us[mode].push(await run(mode));
        instrumentation.enable();
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    return us;
  };
  const returning = await measure((mode) => round(lists[mode]));
  const fresh = await measure((mode) => freshRound(clients[mode]));
  // Returning users exported once; new users once each, but for the rounds with the listener disabled.
  const exposures = USERS * (2 + ITERATIONS);
  if (instrumentation.stats().exported !== exposures) throw new Error('an exposure was lost or repeated');
  // An event and a profile update per exposure, each delivered to the server.
  const delivered = instrumentation.exporter?.stats().exported;
  if (delivered !== 2 * exposures) throw new Error(`${delivered} records delivered of ${2 * exposures}`);
  if (reference.sent !== 2 * exposures) throw new Error(`the reference sent ${reference.sent} records`);
  const summary = (us) => ({
    us: {
      none: median(us.none),
      floor: median(us.floor),
      reference: median(us.reference),
      instrumented: median(us.instrumented),
    },
    floor: median(us.floor.map((x, i) => us.none[i] / x)),
    reference: median(us.reference.map((x, i) => us.none[i] / x)),
    instrumented: median(us.instrumented.map((x, i) => us.none[i] / x)),
  });
  console.log(JSON.stringify({ returning: summary(returning), fresh: summary(fresh) }));
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
