// decide() throughput under five listener designs, as ratios to the SDK with no listener.
//
// Every mode runs in a process of its own (decide-worker.cjs); the five processes of a cycle take
// turns, one round at a time in rotating order, so load and frequency drift on a busy machine hit
// every mode alike. Each ratio pairs a round of a mode with the same round of the no-listener
// process of the same cycle, run a fraction of a second apart; the table shows the median of those ratios with their interquartile
// range and min-max. Throughput is decisions per CPU second of the deciding process, from the first
// decide() until the sink holds every record of the round: delivery (batching, serialization,
// HTTP) is included, waiting for the sink is not. This process hosts the sink, the local
// Mixpanel-compatible server.
//
// Environment: BENCH_PROCESSES (cycles, default 5 for SDK 6 and 3 for SDK 5), BENCH_ROUNDS (rounds per process, default 5),
// BENCH_SDKS (default "6,5").
import './private-spool.cjs';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import { cell, spread } from './spread.cjs';

// SDK 5 gets fewer cycles by default: it is the second opinion, and the whole run must stay short.
const processesFor = (major) => Number(process.env.BENCH_PROCESSES) || (major === '5' ? 3 : 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 5;
const SDKS = (process.env.BENCH_SDKS ?? '6,5').split(',').map((s) => s.trim());
const MODES = ['none', 'empty', 'minimal', 'preload', 'guide'];
const LABELS = {
  none: 'no listener (baseline)',
  empty: 'empty DECISION listener (floor)',
  minimal: 'minimal complete listener',
  preload: 'this instrumentation (preload)',
  guide: "guide's listener (track + people.set)",
};
const TOKEN = 'bench-token';
const worker = fileURLToPath(new URL('./decide-worker.cjs', import.meta.url));

let received = 0;
let pending; // { target, resolve }: a round waiting for its records
const server = new LocalMixpanelServer({
  onRecord: () => {
    received++;
    if (pending && received >= pending.target) {
      const { resolve } = pending;
      pending = undefined;
      resolve();
    }
  },
});
const url = await server.start();

/** A worker process of one mode, driven one step at a time over IPC. */
function start(mode, major) {
  const env = { ...process.env, MIXPANEL_TOKEN: TOKEN, MIXPANEL_API_HOST: url };
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'OTEL_TRACES_EXPORTER'])
    delete env[name];
  const child = fork(worker, [mode, major], {
    env,
    execArgv: mode === 'preload' ? ['--require', '@optimizely-mixpanel/node/register'] : [],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let reply;
  let failed;
  child.on('message', (message) => {
    if (message.type === 'await') {
      // The step is over when the sink holds its records; a stuck delivery fails the run.
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      new Promise((resolve) => {
        pending = { target: received + message.records, resolve };
        if (received >= pending.target) resolve();
      }).then(() => {
        clearTimeout(timer);
        child.send({ type: 'delivered' });
      });
    } else reply?.(message);
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.on('exit', (code, signal) => {
    failed = new Error(`${mode} (SDK ${major}) exited with ${code ?? signal}`);
    reply?.(undefined);
  });
  const ask = (message) =>
    new Promise((resolve, reject) => {
      reply = (answer) => (answer ? resolve(answer) : reject(failed));
      if (message) child.send(message);
    });
  return {
    started: ask(undefined),
    warmUp: () => ask({ type: 'warmup' }),
    round: async (kind) => (await ask({ type: 'round', kind })).result,
    stop: () => {
      child.kill();
      return exited;
    },
  };
}

const started = Date.now();
for (const major of SDKS) {
  // results[mode][cycle] = { returning: [{cpu, wall}], fresh: [...] }
  const results = Object.fromEntries(MODES.map((m) => [m, []]));
  for (let cycle = 0; cycle < processesFor(major); cycle++) {
    // Fresh processes every cycle; one round of one process at a time, the order rotating.
    const workers = Object.fromEntries(MODES.map((mode) => [mode, start(mode, major)]));
    for (const mode of MODES) {
      await workers[mode].started;
      await workers[mode].warmUp();
      results[mode][cycle] = { returning: [], fresh: [] };
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of ['returning', 'fresh']) {
        for (let i = 0; i < MODES.length; i++) {
          const mode = MODES[(i + r + cycle) % MODES.length];
          results[mode][cycle][kind].push(await workers[mode].round(kind));
        }
      }
    }
    await Promise.all(MODES.map((mode) => workers[mode].stop()));
    server.reset(); // the sink keeps what it accepted; a cycle's records are no longer needed
  }
  const ratios = (mode, kind, metric) =>
    results[mode].flatMap((proc, cycle) => proc[kind].map((r, i) => r[metric] / results.none[cycle][kind][i][metric]));
  const perDecisionUs = (mode, kind) =>
    (1e6 / spread(results[mode].flatMap((proc) => proc[kind].map((r) => r.cpu))).median).toFixed(2);
  const version = major === '5' ? '5.4.1' : '6.6.1';
  console.log(
    `\nnode: decide() throughput ratio to no listener, SDK ${version}, Node ${process.version}; ` +
      `median (IQR, min-max) of ${processesFor(major)} processes x ${ROUNDS} rounds per mode`,
  );
  console.log('CPU time per decision, delivery to the sink included:');
  console.table(
    MODES.map((mode) => ({
      mode: LABELS[mode],
      'returning users': cell(ratios(mode, 'returning', 'cpu')),
      'first exposures': cell(ratios(mode, 'fresh', 'cpu')),
      'µs/decide (returning, first)': `${perDecisionUs(mode, 'returning')}, ${perDecisionUs(mode, 'fresh')}`,
    })),
  );
  // Interference from other processes only ever slows a round down: the best round of each process
  // is its least disturbed figure. One ratio per cycle, best round against best round.
  const best = (mode, kind, cycle) => Math.max(...results[mode][cycle][kind].map((r) => r.cpu));
  const bestRatios = (mode, kind) =>
    results[mode].map((_, cycle) => best(mode, kind, cycle) / best('none', kind, cycle));
  console.log(
    'Best round of each process against the best no-listener round of its cycle (CPU time, delivery included):',
  );
  console.table(
    MODES.map((mode) => ({
      mode: LABELS[mode],
      'returning users': cell(bestRatios(mode, 'returning')),
      'first exposures': cell(bestRatios(mode, 'fresh')),
    })),
  );
  const guideFailures = results.guide.reduce((n, proc) => n + (proc.fresh.at(-1)?.failed ?? 0), 0);
  if (guideFailures > 0)
    console.log(`The guide's listener lost ${guideFailures} requests without a word (its code passes no callback).`);
  console.log('Wall clock of the decide() loop alone (delivery excluded):');
  console.table(
    MODES.map((mode) => ({
      mode: LABELS[mode],
      'returning users': cell(ratios(mode, 'returning', 'wall')),
      'first exposures': cell(ratios(mode, 'fresh', 'wall')),
    })),
  );
}
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s; figures from a shared machine are provisional)`);
await server.stop();
