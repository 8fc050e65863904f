// Where a first exposure's cost goes inside a real application process, step by step: SDK 6
// deciding for new users with a listener that does the first parts of what the preload does (the
// pipeline's handle(), its records as JSON, the experiment-context write, the exporter's queueing,
// batching and sending to the local Mixpanel-compatible server). Each step runs in a process of its
// own, cycles interleave the steps, and each figure is the median CPU µs per decide() over the
// cycles (min-max), for the whole process (GC threads included) and its main thread; "added" is
// the step's median minus the previous step's. The last row sends through the platform's fetch
// instead of the exporter's node:http transport, for comparison. These costs run 3 to 4 times what the same code
// costs in a tight loop (core's bench): between two of our calls the SDK's own work has evicted
// our data from the caches, and the records we keep make each collection longer.
//   node bench/first-exposure-steps.bench.mjs     (BENCH_CYCLES, default 3; BENCH_ROUNDS per process, default 30)
import './private-spool.cjs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';
import { median } from './spread.cjs';

const CYCLES = Number(process.env.BENCH_CYCLES) || 3;
const STEPS = ['none', 'empty', 'handle', 'json', 'context', 'export', 'export-fetch'];
const LABELS = {
  none: 'no listener (baseline)',
  empty: 'empty listener',
  handle: '+ pipeline.handle()',
  json: '+ records as JSON',
  context: '+ experiment-context write',
  export: '+ queue, batch, send (exporter)',
  'export-fetch': 'the same through fetch (comparison)',
};
const worker = fileURLToPath(new URL('./first-exposure-steps.worker.cjs', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const { url, stop } = await spawnLocalServer();
const results = Object.fromEntries(STEPS.map((s) => [s, { total: [], main: [] }]));
try {
  for (let c = 0; c < CYCLES; c++) {
    // Rotating order: drift on a shared machine hits every step alike.
    for (let i = 0; i < STEPS.length; i++) {
      const step = STEPS[(i + c) % STEPS.length];
      const env = { ...process.env, URL: url };
      const run = spawnSync(process.execPath, [worker, step], { cwd, env, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`${step} failed: ${run.stderr}`);
      const out = JSON.parse(run.stdout.trim().split('\n').at(-1));
      if (!out.sink) throw new Error(`${step} built nothing`);
      results[step].total.push(out.total);
      results[step].main.push(out.main);
    }
  }
} finally {
  stop();
}
const show = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
console.log(`first exposures, step by step: CPU µs per decide(), SDK 6, Node ${process.version}; ${CYCLES} cycles`);
console.table(
  STEPS.map((step, i) => ({
    step: LABELS[step],
    'process µs': show(results[step].total),
    // The comparison row is measured against the exporter row's predecessor, as the exporter is.
    'added µs':
      i === 0
        ? ''
        : (median(results[step].total) - median(results[STEPS[step === 'export-fetch' ? i - 2 : i - 1]].total)).toFixed(
            1,
          ),
    'main thread µs': show(results[step].main),
  })),
);
