// decide() in one process: the SDK with no listener, with this instrumentation's listener disabled
// (present, returning at once: the floor) and enabled, in rounds that take turns inside each process
// (in-process-worker.cjs), for returning users and for first exposures (an enabled round of first
// exposures lasts until the exporter has delivered them to the local Mixpanel-compatible server).
// Processes of this machine differ in speed by up to 2x for their whole life; ratios taken within one
// process divide that out, which the process-per-mode benchmark (decide.bench.mjs) cannot. The table
// gives the median (IQR, min-max) of the processes' median ratios, and each process's medians.
//   node bench/in-process.bench.mjs        (BENCH_PROCESSES, default 6; BENCH_SDKS, default "6,5")
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';
import { cell } from './spread.mjs';

const PROCESSES = Number(process.env.BENCH_PROCESSES) || 6;
const SDKS = (process.env.BENCH_SDKS ?? '6,5').split(',').map((s) => s.trim());
const worker = fileURLToPath(new URL('./in-process-worker.cjs', import.meta.url));
const run = promisify(execFile);

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
    const version = major === '5' ? '5.4.1' : '6.6.1';
    console.log(
      `\nnode: decide() in one process, ratio to no listener, SDK ${version}, Node ${process.version}; ` +
        `${PROCESSES} processes x 12 rounds of 2000 users (returning: each decided 10 times)`,
    );
    console.table(
      ['floor', 'instrumented'].map((mode) => ({
        mode: mode === 'floor' ? 'listener disabled (floor)' : 'this instrumentation',
        'returning users': cell(
          results.map((r) => r.returning[mode]),
          3,
        ),
        'first exposures': cell(
          results.map((r) => r.fresh[mode]),
          3,
        ),
      })),
    );
    console.log('Each process: CPU µs per decide() (no listener, floor, instrumented) and the ratios of the last two');
    const us = (k) => `${k.us.none.toFixed(2)}, ${k.us.floor.toFixed(2)}, ${k.us.instrumented.toFixed(2)}`;
    console.table(
      results.map((r) => ({
        'returning: µs': us(r.returning),
        ratios: `${r.returning.floor.toFixed(3)}, ${r.returning.instrumented.toFixed(3)}`,
        'first exposures: µs': us(r.fresh),
        'ratios ': `${r.fresh.floor.toFixed(3)}, ${r.fresh.instrumented.toFixed(3)}`,
      })),
    );
  }
} finally {
  stop();
}
