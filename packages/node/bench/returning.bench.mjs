// Returning users in one process: the SDK with no listener, with this instrumentation's listener
// disabled (present, returning at once: the floor) and enabled, in rounds that take turns inside
// each process (returning-worker.cjs). Processes of this machine differ in speed by up to 2x for
// their whole life; ratios taken within one process divide that out, which the process-per-mode
// benchmark (decide.bench.mjs) cannot. The table gives the median (IQR, min-max) of the processes'
// median ratios, and each process's medians.
//   node bench/returning.bench.mjs        (BENCH_PROCESSES, default 6; BENCH_SDKS, default "6,5")
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';

const PROCESSES = Number(process.env.BENCH_PROCESSES) || 6;
const SDKS = (process.env.BENCH_SDKS ?? '6,5').split(',').map((s) => s.trim());
const worker = fileURLToPath(new URL('./returning-worker.cjs', import.meta.url));
const run = promisify(execFile);

const { url, stop } = await spawnLocalServer();
const env = { ...process.env, MIXPANEL_TOKEN: 'bench-token', MIXPANEL_API_HOST: url };
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'OTEL_TRACES_EXPORTER']) delete env[name];

const quantile = (sorted, q) => {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (i - lo);
};
const cell = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x) => x.toFixed(3);
  return `${f(quantile(s, 0.5))} (IQR ${f(quantile(s, 0.25))}-${f(quantile(s, 0.75))}, ${f(s[0])}-${f(s.at(-1))})`;
};

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
      `\nnode: returning users' decide() in one process, ratio to no listener, SDK ${version}, Node ${process.version}; ` +
        `${PROCESSES} processes x 11 rounds of 2000 users x 10 decisions`,
    );
    console.table([
      { mode: 'listener disabled (floor)', 'ratio to no listener': cell(results.map((r) => r.floor)) },
      { mode: 'this instrumentation', 'ratio to no listener': cell(results.map((r) => r.instrumented)) },
    ]);
    console.log('Each process: CPU µs per decide() (no listener, floor, instrumented) and its two ratios');
    console.table(
      results.map((r) => ({
        'µs per decide': `${r.us.none.toFixed(2)}, ${r.us.floor.toFixed(2)}, ${r.us.instrumented.toFixed(2)}`,
        floor: r.floor.toFixed(3),
        instrumented: r.instrumented.toFixed(3),
      })),
    );
  }
} finally {
  stop();
}
