// One benchmark process: one listener mode, one SDK major. Forked by decide.bench.mjs, which
// hosts the Mixpanel sink and asks its processes for one round at a time:
//   node [--require @optimizely-mixpanel/node/register] decide-worker.cjs <mode> <sdk>
// Modes: none (no listener), empty (an empty DECISION listener), preload (this instrumentation,
// enabled by the preload; the exporter delivers to the sink), minimal (minimal-listener.cjs: the
// least any listener that delivers exposures does, to the same sink), guide (the integration guide's
// listener: mixpanel.track + people.set per decision, to the same sink).
// Each round is measured in CPU time of this process from the first decide() until the sink has
// every record of the round, so batching, serialization and sending are counted, not the sink's wait.
'use strict';
const { createClient } = require('./sdk-client.cjs');
const { addMinimalListener } = require('./minimal-listener.cjs');

const [mode, major] = process.argv.slice(2);
// Resolved through the pnpm store as @optimizely/optimizely-sdk, so the preload's hook applies.
const sdk = require(major === '5' ? 'optimizely-sdk-v5' : 'optimizely-sdk-v6');

const DECISION = sdk.NOTIFICATION_TYPES?.DECISION ?? sdk.enums.NOTIFICATION_TYPES.DECISION;

const client = createClient(sdk);
if (mode === 'empty') client.notificationCenter.addNotificationListener(DECISION, () => {});
const minimal =
  mode === 'minimal'
    ? addMinimalListener(sdk, client, process.env.MIXPANEL_API_HOST, process.env.MIXPANEL_TOKEN)
    : undefined;
// The guide's listener sends without callbacks; the benchmark counts its requests' completions
// (and failures, which the guide's code never sees) to know when a round's sending is over.
let guideSettled = 0;
let guideFailed = 0;
let onGuideSettled;
const settled = (error) => {
  guideSettled++;
  if (error) guideFailed++;
  onGuideSettled?.();
};
if (mode === 'guide') {
  // As the integration guide writes it, after the client exists.
  const Mixpanel = require('mixpanel');
  const url = new URL(process.env.MIXPANEL_API_HOST);
  const mixpanel = Mixpanel.init(process.env.MIXPANEL_TOKEN, { host: url.host, protocol: 'http' });
  client.notificationCenter.addNotificationListener(DECISION, ({ type, userId, decisionInfo }) => {
    if (type !== 'flag') return;
    mixpanel.track(
      'Experiment Viewed',
      {
        distinct_id: userId,
        flag_key: decisionInfo.flagKey,
        variation_key: decisionInfo.variationKey,
        rule_key: decisionInfo.ruleKey,
      },
      settled,
    );
    mixpanel.people.set(userId, { [`[Optimizely] ${decisionInfo.flagKey}`]: decisionInfo.variationKey }, settled);
  });
}
if (mode === 'preload' && sdk.createInstance.__wrapped !== true) {
  throw new Error('the preload did not instrument the SDK');
}

// Records the sink should receive per decision: an event and a profile update for every decision
// (guide), or for first exposures only (preload; returning users are deduplicated).
const perDecision = (fresh) => (mode === 'guide' ? 2 : (mode === 'preload' || mode === 'minimal') && fresh ? 2 : 0);
let waiting;
function delivered(records) {
  if (records === 0) return Promise.resolve();
  if (minimal) return minimal.flush();
  if (mode === 'guide') {
    const target = guideSettled + records;
    return new Promise((resolve) => {
      onGuideSettled = () => {
        if (guideSettled >= target) resolve();
      };
      onGuideSettled();
    });
  }
  return new Promise((resolve) => {
    waiting = resolve;
    process.send({ type: 'await', records });
  });
}

// Fewer decisions per round for the guide's listener: two HTTP requests each.
const size = mode === 'guide' ? 500 : 2000;
const passes = mode === 'guide' ? 1 : 10;
const returning = Array.from({ length: size }, (_, i) => client.createUserContext(`returning-${i}`));
let nextUser = 0;
const newUsers = () => Array.from({ length: size }, () => client.createUserContext(`new-${process.pid}-${nextUser++}`));

async function round(contexts, repeat, fresh) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let p = 0; p < repeat; p++) {
    for (let i = 0; i < contexts.length; i++) contexts[i].decide('checkout_redesign');
  }
  const loopNs = Number(process.hrtime.bigint() - start);
  await delivered(perDecision(fresh) * contexts.length * repeat);
  const used = process.cpuUsage(cpu);
  const ops = contexts.length * repeat;
  return { cpu: ops / ((used.user + used.system) / 1e6), wall: ops / (loopNs / 1e9), failed: guideFailed };
}

// The parent runs one round of one process at a time: rounds of all modes interleave closely.
process.on('message', async (message) => {
  if (message.type === 'delivered') return waiting?.();
  if (message.type === 'warmup') {
    // The returning users' first exposures, then both kinds of round.
    await round(returning, 1, true);
    for (let w = 0; w < 2; w++) {
      await round(returning, passes, false);
      await round(newUsers(), 1, true);
    }
    process.send({ type: 'ready' });
  }
  if (message.type === 'round') {
    const result =
      message.kind === 'returning' ? await round(returning, passes, false) : await round(newUsers(), 1, true);
    process.send({ type: 'done', result });
  }
});
process.send({ type: 'started' });
