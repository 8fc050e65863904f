// decide() in one process: the SDK with no listener, with this instrumentation's listener disabled
// (present, returning at once: the floor), with a minimal complete listener (minimal-listener.cjs:
// the least any design that delivers exposures from the process does) and with this instrumentation,
// in rounds that take turns inside each process (in-process-worker.cjs), for returning users and for
// first exposures (a round of first exposures lasts until its records are delivered to the local
// Mixpanel-compatible server).
// Processes of this machine differ in speed by up to 2x for their whole life; ratios taken within one
// process divide that out, which the process-per-mode benchmark (decide.bench.mjs) cannot. The table
// gives the median (IQR, min-max) of the processes' median ratios, and each process's medians.
//   node bench/in-process.bench.mjs        (BENCH_PROCESSES, default 6; BENCH_SDKS, default "6,5";
//   BENCH_CONTEXT_MANAGER=1 registers a context manager in each process, as an OpenTelemetry SDK does)
import './private-spool.cjs';
import { runWorkers, sdkVersion } from './run-workers.mjs';
import { cell } from './spread.cjs';

const LABELS = {
  floor: 'listener disabled (floor)',
  reference: 'minimal complete listener',
  instrumented: 'this instrumentation',
};

await runWorkers(new URL('./in-process-worker.cjs', import.meta.url), {
  sdks: '6,5',
  report(major, results, processes) {
    const version = sdkVersion(major);
    console.log(
      `\nnode: decide() in one process, ratio to no listener, SDK ${version}, Node ${process.version}; ` +
        `${processes} processes x 12 rounds of 2000 users (returning: each decided 10 times)`,
    );
    console.table(
      ['floor', 'reference', 'instrumented'].map((mode) => ({
        mode: LABELS[mode],
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
    console.log(
      'Each process: CPU µs per decide() (no listener, floor, minimal listener, this) and the ratios of the last three',
    );
    const us = (k) => ['none', 'floor', 'reference', 'instrumented'].map((m) => k.us[m].toFixed(2)).join(', ');
    const ratios = (k) => ['floor', 'reference', 'instrumented'].map((m) => k[m].toFixed(3)).join(', ');
    console.table(
      results.map((r) => ({
        'returning: µs': us(r.returning),
        ratios: ratios(r.returning),
        'first exposures: µs': us(r.fresh),
        'ratios ': ratios(r.fresh),
      })),
    );
  },
});
