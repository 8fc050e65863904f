// What the in-process benchmarks share: one local Mixpanel-compatible server, and a worker process run
// BENCH_PROCESSES times (default 6) for each SDK of BENCH_SDKS, each printing its results as its last
// line of JSON.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';

const run = promisify(execFile);

/** The version each major of the benchmarks' SDKs stands for. */
export const sdkVersion = (major) => (major === '5' ? '5.4.1' : '6.6.1');

/**
 * Runs `worker` (a file URL) with the SDK major as its argument, BENCH_PROCESSES times per SDK, and
 * calls `report(major, results, processes)` with the parsed results of each SDK's processes.
 */
export async function runWorkers(worker, { sdks, report }) {
  const processes = Number(process.env.BENCH_PROCESSES) || 6;
  const majors = (process.env.BENCH_SDKS ?? sdks).split(',').map((s) => s.trim());
  const { url, stop } = await spawnLocalServer();
  const env = { ...process.env, MIXPANEL_TOKEN: 'bench-token', MIXPANEL_API_HOST: url };
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'OTEL_TRACES_EXPORTER'])
    delete env[name];
  try {
    for (const major of majors) {
      const results = [];
      for (let p = 0; p < processes; p++) {
        const { stdout } = await run(process.execPath, [fileURLToPath(worker), major], {
          env,
          cwd: fileURLToPath(new URL('..', import.meta.url)),
        });
        results.push(JSON.parse(stdout.trim().split('\n').at(-1)));
      }
      report(major, results, processes);
    }
  } finally {
    stop();
  }
}
