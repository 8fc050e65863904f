// Exposures per second and peak heap for three ways of getting exposures into Mixpanel, run
// one after another in this process against the local Mixpanel-compatible server (in a child
// process, so its decoding does not share this event loop):
//   1. this exporter (batched /track + /engage),
//   2. the mixpanel client's track_batch for events + people.set for profiles,
//   3. the naive listener most integrations write: mixpanel.track + people.set per exposure.
// The naive approach is the baseline of the ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionPipeline } from '@optimizely-mixpanel/core';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';
import Mixpanel from 'mixpanel';
import { MixpanelExporter } from '../dist/index.js';

const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');
delete process.env.HTTP_PROXY;
delete process.env.HTTPS_PROXY;
const TOKEN = 'bench-token';

function makeExposures(count, offset) {
  const pipeline = new DecisionPipeline({ dedup: false });
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    return pipeline.handle({
      type: 'flag',
      userId: `user-${n}`,
      decisionInfo: {
        flagKey: 'checkout_redesign',
        enabled: true,
        variationKey: n % 2 ? 'variation_a' : 'control',
        ruleKey: 'checkout_redesign_ab',
        decisionEventDispatched: true,
      },
    }).exposure;
  });
}

/** Runs `fn`, sampling the heap; returns exposures/s and the peak heap growth in MB. */
async function measure(count, fn) {
  gc();
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 5);
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  return { perSecond: count / seconds, peakMb: (peak - base) / 1024 / 1024, seconds };
}

// The mixpanel client neither retries nor queues: on this 2-core machine thousands of concurrent
// requests can be reset. Its failures are counted and reported (records it lost), not thrown.
let clientFailures = 0;
const callback = (resolve) => (err) => {
  if (err && (!Array.isArray(err) || err.length)) clientFailures++;
  resolve();
};

async function readCount(url) {
  return (await (await fetch(`${url}/_local/summary`)).json()).events;
}

const server = await spawnLocalServer();
const host = new URL(server.url).host;
const results = [];
let sustainedResult;
const progress = (m) => process.stderr.write(`${m}\n`);
// The spool (on by default) in a folder of the run's own, not the user's state directory.
const spool = { dir: mkdtempSync(join(tmpdir(), 'optimizely-mixpanel-bench-')) };
let offset = 0;

{
  const count = Number(process.env.BENCH_EXPOSURES ?? 50_000);
  const batch = makeExposures(count, offset);
  offset += count;
  const exporter = new MixpanelExporter({
    token: TOKEN,
    apiHost: server.url,
    spool,
    maxQueueSize: 2 * count,
    maxQueueBytes: 1024 * count,
  });
  const r = await measure(count, async () => {
    // Produced as fast as decisions could be made; flush waits for the last delivery.
    for (const exposure of batch) exporter.export(exposure);
    await exporter.flush();
  });
  await exporter.shutdown();
  const stats = exporter.stats();
  if (stats.exported !== 2 * count) throw new Error(`exporter lost records: ${JSON.stringify(stats)}`);
  results.push({ approach: 'this exporter', exposures: count, ...r });
  progress('exporter done');
}

{
  // Sustained: a steady 25 000 exposures/s for 4 s with the default queue bounds (20 000 records).
  const rate = 25_000;
  const seconds = 4;
  const count = rate * seconds;
  const batch = makeExposures(count, offset);
  offset += count;
  const exporter = new MixpanelExporter({ token: TOKEN, apiHost: server.url, spool });
  const r = await measure(count, async () => {
    const tickMs = 10;
    const perTick = (rate * tickMs) / 1000;
    const start = performance.now();
    for (let produced = 0; produced < count; ) {
      const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * rate) + perTick);
      while (produced < due) exporter.export(batch[produced++]);
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    await exporter.flush();
  });
  await exporter.shutdown();
  const stats = exporter.stats();
  const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  sustainedResult = { rate, seconds, dropped, exported: stats.exported / 2, elapsed: r.seconds, peakMb: r.peakMb };
  progress('sustained done');
}

const exporterReceived = await readCount(server.url);
if (exporterReceived !== offset - sustainedResult.dropped / 2)
  throw new Error(`server received ${exporterReceived} events from the exporter, expected ${offset}`);

{
  const count = 10_000;
  const batch = makeExposures(count, offset);
  offset += count;
  const mp = Mixpanel.init(TOKEN, { host, protocol: 'http' });
  const r = await measure(count, async () => {
    const events = batch.map((e) => e.events[0]);
    const done = [new Promise((resolve) => mp.track_batch(events, callback(resolve)))];
    for (const e of batch) {
      done.push(new Promise((resolve) => mp.people.set(e.distinctId, e.profileUpdate.$set, callback(resolve))));
    }
    await Promise.all(done);
  });
  results.push({ approach: 'mixpanel track_batch + people.set', exposures: count, failed: clientFailures, ...r });
  clientFailures = 0;
  progress('track_batch done');
}

{
  const count = 5_000;
  const batch = makeExposures(count, offset);
  offset += count;
  const mp = Mixpanel.init(TOKEN, { host, protocol: 'http' });
  const r = await measure(count, async () => {
    const done = [];
    for (const e of batch) {
      const { distinct_id, ...props } = e.events[0].properties;
      done.push(new Promise((resolve) => mp.track('Experiment Viewed', { distinct_id, ...props }, callback(resolve))));
      done.push(new Promise((resolve) => mp.people.set(e.distinctId, e.profileUpdate.$set, callback(resolve))));
    }
    await Promise.all(done);
  });
  results.push({ approach: 'naive track + people.set', exposures: count, failed: clientFailures, ...r });
}

server.stop();
rmSync(spool.dir, { recursive: true, force: true });

const naive = results.at(-1).perSecond;
const trackBatch = results[1].perSecond;
console.log(`exporter: exposures into the local Mixpanel server, Node ${process.version}`);
console.table(
  results.map((r) => ({
    approach: r.approach,
    exposures: r.exposures,
    'exposures/s': Math.round(r.perSecond),
    'peak heap MB': r.peakMb.toFixed(1),
    'failed requests': r.failed ?? 0,
    'vs naive': `${(r.perSecond / naive).toFixed(1)}x`,
    'vs track_batch': `${(r.perSecond / trackBatch).toFixed(1)}x`,
  })),
);
console.log(
  `sustained: ${sustainedResult.rate} exposures/s offered for ${sustainedResult.seconds} s with the default bounds: ` +
    `${sustainedResult.exported} delivered, ${sustainedResult.dropped} records dropped, ` +
    `done ${sustainedResult.elapsed.toFixed(2)} s after the first, peak heap ${sustainedResult.peakMb.toFixed(1)} MB`,
);
