// One process of returning.bench.mjs: the same SDK with no listener, with this instrumentation's
// listener disabled (the listener is there and returns at once: the floor), and enabled, in rounds
// that take turns in this one process, so the process's own speed is the same for all three.
//   node returning-worker.cjs <sdk major>      (MIXPANEL_TOKEN and MIXPANEL_API_HOST set)
// Prints one JSON line: the median CPU µs per decide() of each, and the medians of the ratios of
// each round to the no-listener round before it.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { OptimizelyMixpanelInstrumentation } = require('@optimizely-mixpanel/node');

const instrumentation = new OptimizelyMixpanelInstrumentation();
registerInstrumentations({ instrumentations: [instrumentation] });
// Resolved through the pnpm store as @optimizely/optimizely-sdk, so the instrumentation patches it.
const sdk = require(process.argv[2] === '5' ? 'optimizely-sdk-v5' : 'optimizely-sdk-v6');
if (typeof sdk.createInstance.__original !== 'function') throw new Error('the SDK is not instrumented');
const datafile = readFileSync(join(__dirname, '../../../test/fixtures/datafile.json'), 'utf8');

function createClient(createInstance) {
  if (typeof sdk.createStaticProjectConfigManager === 'function') {
    return createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });
  }
  return createInstance({
    datafile,
    logLevel: 'error',
    eventDispatcher: { dispatchEvent: (_event, callback) => callback?.({ statusCode: 204 }) },
    odpOptions: { disabled: true },
  });
}
const plain = createClient(sdk.createInstance.__original);
const instrumented = createClient(sdk.createInstance);
const USERS = 2000;
const PASSES = 10;
const contexts = (client) => Array.from({ length: USERS }, (_, i) => client.createUserContext(`returning-${i}`));
const plainUsers = contexts(plain);
const users = contexts(instrumented);

function round(list) {
  const start = process.cpuUsage();
  for (let p = 0; p < PASSES; p++) for (let i = 0; i < list.length; i++) list[i].decide('checkout_redesign');
  const used = process.cpuUsage(start);
  return (used.user + used.system) / (USERS * PASSES);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

(async () => {
  // The users' first exposures, delivered before anything is measured.
  round(users);
  await instrumentation.flush();
  const stats = instrumentation.stats();
  if (stats.exported !== USERS) throw new Error(`expected ${USERS} exposures, got ${stats.exported}`);
  for (let w = 0; w < 3; w++) {
    round(plainUsers);
    round(users);
  }
  const us = { none: [], floor: [], instrumented: [] };
  for (let r = 0; r < 11; r++) {
    us.none.push(round(plainUsers));
    instrumentation.disable();
    us.floor.push(round(users));
    instrumentation.enable();
    us.instrumented.push(round(users));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const ratio = (mode) => median(us[mode].map((x, i) => us.none[i] / x));
  if (instrumentation.stats().exported !== USERS) throw new Error('a returning user was exported again');
  console.log(
    JSON.stringify({
      us: { none: median(us.none), floor: median(us.floor), instrumented: median(us.instrumented) },
      floor: ratio('floor'),
      instrumented: ratio('instrumented'),
    }),
  );
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
