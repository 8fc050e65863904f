// Normalize + dedup throughput on one core, and memory per dedup entry, at 1k, 100k and 1M
// distinct users. Run with `pnpm bench` (needs --expose-gc).
//
// Throughput is operations per CPU second of this process (process.cpuUsage), so a busy machine
// that preempts us does not count against the code; rounds of every measurement are interleaved
// with rounds of the baseline (the real SDK's decide() with no listener, which every normalization
// rides on), and each figure is the median of its rounds with their min-max.
// Memory is heap plus typed-array backing stores (the dedup table lives in an Int32Array).

import { readFileSync } from 'node:fs';
import * as sdk from 'optimizely-sdk-v6';
import { DecisionPipeline, ExposureDeduplicator, exposureJson } from '../dist/esm/index.js';

const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;

// The decision the tests use; its user id is set per call.
const payload = JSON.parse(readFileSync(new URL('../test/fixtures/flag-decision.json', import.meta.url), 'utf8'));

// Short concatenations are flat strings: cons strings would be flattened during the run and
// the memory that frees would distort the bytes-per-entry figure.
const users = (n) => Array.from({ length: n }, (_, i) => 'user-' + i);

/** Operations per CPU second of `fn(ops)`. */
function rate(ops, fn) {
  const start = process.cpuUsage();
  fn(ops);
  const used = process.cpuUsage(start);
  return ops / ((used.user + used.system) / 1e6);
}

function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const datafile = readFileSync(new URL('../../../test/fixtures/datafile.json', import.meta.url), 'utf8');
const client = sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });
const contexts = users(1000).map((id) => client.createUserContext(id));
const decide = (n) => {
  for (let i = 0; i < n; i++) contexts[i % contexts.length].decide('checkout_redesign');
};
decide(20_000);

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * q))];
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), min: s[0], max: s.at(-1) };
};
const millions = (xs) => {
  const s = summary(xs);
  return `${(s.median / 1e6).toFixed(2)} (${(s.min / 1e6).toFixed(2)}-${(s.max / 1e6).toFixed(2)})`;
};

const rows = [];
const baseline = [];
let sink = 0;
for (const count of [1_000, 100_000, 1_000_000]) {
  const ids = users(count);
  const handleAll = (pipeline) => (n) => {
    for (let i = 0; i < n; i++) {
      payload.userId = ids[i % count];
      pipeline.handle(payload);
    }
  };
  // What Node does with a first exposure: the records as the JSON its exporter queues.
  const handleToJson = (pipeline) => (n) => {
    for (let i = 0; i < n; i++) {
      payload.userId = ids[i % count];
      const { exposure } = pipeline.handle(payload);
      if (exposure) sink += exposureJson(exposure).profileUpdate.bytes;
    }
  };
  const dedupAll = (dedup, at) => (n) => {
    for (let i = 0; i < n; i++)
      dedup.seen(ids[i % count], 'checkout_redesign', 'checkout_redesign_ab', 'variation_a', at);
  };
  handleAll(new DecisionPipeline())(50_000); // warm-up

  const fresh = [];
  const freshJson = [];
  const dup = [];
  const dedupFresh = [];
  const dedupDup = [];
  // Rounds of at least 200k operations: fresh normalizers (and deduplicators) as often as needed.
  const ops = Math.max(count, 200_000);
  const fills = Math.ceil(ops / count);
  for (let r = 0; r < ROUNDS; r++) {
    baseline.push(rate(100_000, decide));
    // First sight of every user: each call builds an exposure and inserts a dedup entry.
    let pipeline;
    fresh.push(
      rate(fills * count, () => {
        for (let f = 0; f < fills; f++) {
          pipeline = new DecisionPipeline({ dedup: { maxEntries: 2 * count } });
          handleAll(pipeline)(count);
        }
      }),
    );
    freshJson.push(
      rate(fills * count, () => {
        for (let f = 0; f < fills; f++) handleToJson(new DecisionPipeline({ dedup: { maxEntries: 2 * count } }))(count);
      }),
    );
    // Every later decision for the same users is a duplicate.
    dup.push(rate(ops, handleAll(pipeline)));
    if (pipeline.deduplicator.size !== count) throw new Error('dedup lost entries');
    let dedup;
    dedupFresh.push(
      rate(fills * count, () => {
        for (let f = 0; f < fills; f++) {
          dedup = new ExposureDeduplicator({ maxEntries: 2 * count }, 0);
          dedupAll(dedup, 0)(count);
        }
      }),
    );
    dedupDup.push(rate(ops, dedupAll(dedup, 1000)));
  }

  // Memory per dedup entry, each in a pass of its own on a settled heap: filled to `count`
  // entries, and at the cap (maxEntries = count after 2 x count distinct users: both generations
  // in use, some entries evicted).
  const bytesPerEntry = (maxEntries, distinct) => {
    const before = memory();
    const dedup = new ExposureDeduplicator({ maxEntries }, 0);
    for (let i = 0; i < distinct; i++) {
      dedup.seen(i < count ? ids[i] : `other-${i}`, 'checkout_redesign', 'checkout_redesign_ab', 'variation_a', 0);
    }
    const bytes = (memory() - before) / dedup.size;
    if (dedup.size > maxEntries) throw new Error('dedup over its cap');
    return bytes;
  };
  const bytesFilled = bytesPerEntry(2 * count, count);
  const bytesCapped = bytesPerEntry(count, 2 * count);

  rows.push({
    users: count,
    'first exposures, M/s': millions(fresh),
    '+ records as JSON, M/s': millions(freshJson),
    'duplicates, M/s': millions(dup),
    'dedup alone: first, M/s': millions(dedupFresh),
    'dedup alone: dup, M/s': millions(dedupDup),
    'bytes/entry (filled, at cap)': `${Math.round(bytesFilled)}, ${Math.round(bytesCapped)}`,
    _fresh: summary(fresh).median,
  });
}
client.close();

const decideRate = summary(baseline).median;
if (sink === 0) throw new Error('no JSON records were built');
console.log(`core: normalize + dedup on one core (CPU time), Node ${process.version}, ${process.arch}`);
console.log(
  `baseline: SDK 6.6.1 decide() with no listener, ${(decideRate / 1e6).toFixed(3)} M/s; ` +
    `median (min-max) of ${ROUNDS} interleaved rounds; figures from a shared machine are provisional`,
);
console.table(
  rows.map(({ _fresh, ...row }) => ({
    ...row,
    'first exposure vs decide()': `${((decideRate / _fresh) * 100).toFixed(0)}%`,
  })),
);
