// What the least listener work costs a first exposure inside decide(), step by step, against the
// SDK alone, in one process (listener-floor-worker.cjs): an empty listener; the minimal complete
// listener (minimal-listener.cjs) stopped after remembering the user's variation (a Map per flag);
// stopped after building the event and the profile update as JSON text; whole (records kept, batched
// and sent to the local Mixpanel-compatible server); and this instrumentation. A ratio of 0.80 leaves
// a quarter of the SDK's own decide() for everything a listener adds: this ladder shows how much of
// that budget each step that no complete design can skip takes on the machine that runs it.
//   node bench/listener-floor.bench.mjs      (BENCH_PROCESSES, default 6; BENCH_SDKS, default "6")
import './private-spool.cjs';
import { runWorkers, sdkVersion } from './run-workers.mjs';
import { cell, median } from './spread.cjs';

const LABELS = {
  empty: 'empty listener',
  remember: 'remember the variation (Map per flag)',
  build: '+ build the two records as JSON',
  minimal: '+ keep, batch and send (minimal complete listener)',
  instrumented: 'this instrumentation',
};

await runWorkers(new URL('./listener-floor-worker.cjs', import.meta.url), {
  sdks: '6',
  report(major, results, processes) {
    const none = median(results.map((r) => r.none.us));
    console.log(
      `\nnode: first exposures, the floor of a listener, SDK ${sdkVersion(major)}, Node ${process.version}; ` +
        `${processes} processes x 12 rounds of 2000 new users; no listener: ${none.toFixed(2)} µs per decide() ` +
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
  },
});
