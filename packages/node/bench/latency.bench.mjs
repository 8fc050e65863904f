// decide() latency, not throughput: what one call costs the caller under this instrumentation, for
// first exposures (the costly kind), against the SDK with no listener in the same process
// (latency-worker.cjs). Reports the percentiles of the calls of the measured rounds and the median
// (min-max) of each round's slowest call, per process, with the instrumented/none ratio of each.
// The exporter builds and sends a full batch (up to 2000 records) after the decide() that filled
// it returns, so no single call carries a request.
//   node bench/latency.bench.mjs        (BENCH_PROCESSES, default 3)
import './private-spool.cjs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';
import { spread } from './spread.cjs';

const PROCESSES = Number(process.env.BENCH_PROCESSES) || 3;
const worker = fileURLToPath(new URL('./latency-worker.cjs', import.meta.url));
const run = promisify(execFile);
const { url, stop } = await spawnLocalServer();
const env = { ...process.env, MIXPANEL_TOKEN: 'bench-token', MIXPANEL_API_HOST: url };
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'OTEL_TRACES_EXPORTER']) delete env[name];

const rows = [];
try {
  for (let p = 0; p < PROCESSES; p++) {
    const { stdout } = await run(process.execPath, [worker], {
      env,
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1));
    const figures = (mode) => {
      const { p50, p99, p999 } = result[mode];
      const slowest = spread(result[mode].slowest);
      return {
        p50,
        p99,
        p999,
        slowest: slowest.median,
        range: `${slowest.min.toFixed(0)}-${slowest.max.toFixed(0)}`,
      };
    };
    const none = figures('none');
    const instrumented = figures('instrumented');
    const show = (k, digits = 1) =>
      `${none[k].toFixed(digits)} / ${instrumented[k].toFixed(digits)} (${(instrumented[k] / none[k]).toFixed(2)}x)`;
    rows.push({
      'p50 µs': show('p50'),
      'p99 µs': show('p99'),
      'p99.9 µs': show('p999'),
      'slowest per round µs': `${show('slowest', 0)}; ${none.range} / ${instrumented.range}`,
    });
  }
} finally {
  stop();
}
console.log(
  `\nnode: decide() latency for first exposures, SDK 6.6.1, Node ${process.version}: no listener / this ` +
    `instrumentation (ratio), one row per process, 16 rounds of 2000 new users per mode, alternating`,
);
console.table(rows);
