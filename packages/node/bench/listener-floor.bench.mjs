// What the least listener work costs a first exposure inside decide(), step by step, against the
// SDK alone, in one process (listener-floor-worker.cjs): an empty listener; the minimal complete
// listener (minimal-listener.cjs) stopped after remembering the user's variation (a Map per flag);
// stopped after building the event and the profile update as JSON text; whole (records kept, batched
// and sent to the local Mixpanel-compatible server); and this instrumentation. A ratio of 0.80 leaves
// a quarter of the SDK's own decide() for everything a listener adds: this ladder shows how much of
// that budget each step that no complete design can skip takes on the machine that runs it.
//   node bench/listener-floor.bench.mjs      (BENCH_PROCESSES, default 6; BENCH_SDKS, default "6")
import './private-spool.cjs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';
import { cell, median } from './spread.cjs';

const PROCESSES = Number(process.env.BENCH_PROCESSES) || 6;
const SDKS = (process.env.BENCH_SDKS ?? '6').split(',').map((s) => s.trim());
const worker = fileURLToPath(new URL('./listener-floor-worker.cjs', import.meta.url));
const run = promisify(execFile);
const LABELS = {
  empty: 'empty listener',
  remember: 'remember the variation (Map per flag)',
  build: '+ build the two records as JSON',
  minimal: '+ keep, batch and send (minimal complete listener)',
  instrumented: 'this instrumentation',
};

const { url, stop } = await spawnLocalServer();
const env = { ...process.env, MIXPANEL_TOKEN: 'bench-token', MIXPANEL_API_HOST: url };
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'OTEL_TRACES_EXPORTER']) delete env[name];

try {
  for (const major of SDKS) {
    const results = [];
    for (let p = 0; p < PROCESSES; p++) {
      const { stdout } = await run(process.execPath, [worker, major], {
        env,
        cwd: fileURLToPath(new URL('..', import.meta.url)),
      });
      results.push(JSON.parse(stdout.trim().split('\n').at(-1)));
    }
    const none = median(results.map((r) => r.none.us));
    console.log(
      `\nnode: first exposures, the floor of a listener, SDK ${major === '5' ? '5.4.1' : '6.6.1'}, Node ${process.version}; ` +
        `${PROCESSES} processes x 12 rounds of 2000 new users; no listener: ${none.toFixed(2)} µs per decide() ` +
        `(a ratio of 0.80 leaves ${(none / 0.8 - none).toFixed(2)} µs for a listener)`,
    );
    console.table(
      Object.keys(LABELS).map((mode) => ({
        mode: LABELS[mode],
        'ratio to no listener': cell(
          results.map((r) => r[mode].ratio),
          3,
        ),
        'µs added': median(results.map((r) => r[mode].us - r.none.us)).toFixed(2),
      })),
    );
  }
} finally {
  stop();
}
