// Normalize + dedup throughput and bytes per dedup entry at 1k, 100k and 1M distinct users.
// Run with `pnpm bench` (needs --expose-gc). Baselines run in this same process: the real
// SDK's decide() with no listener, which every normalization rides on.

import { readFileSync } from 'node:fs';
import * as sdk from 'optimizely-sdk-v6';
import { DecisionPipeline } from '../dist/esm/index.js';

const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');

const payload = {
  type: 'flag',
  userId: '',
  attributes: {},
  decisionInfo: {
    flagKey: 'checkout_redesign',
    enabled: true,
    variationKey: 'variation_a',
    ruleKey: 'checkout_redesign_ab',
    variables: {},
    reasons: [],
    decisionEventDispatched: true,
    experimentId: '40000000001',
    variationId: '70000000002',
  },
};

// Short concatenations are flat strings: cons strings would be flattened during the run and
// the memory that frees would distort the bytes-per-entry figure.
const users = (n) => Array.from({ length: n }, (_, i) => 'user-' + i);

function rate(ops, fn) {
  const start = process.hrtime.bigint();
  fn(ops);
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

function heapUsed() {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function decideRate(ops) {
  const datafile = readFileSync(new URL('../../../test/fixtures/datafile.json', import.meta.url), 'utf8');
  const client = sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });
  const contexts = users(1000).map((id) => client.createUserContext(id));
  const run = (n) => {
    for (let i = 0; i < n; i++) contexts[i % contexts.length].decide('checkout_redesign');
  };
  run(20_000);
  const r = rate(ops, run);
  client.close();
  return r;
}

const decidePerSecond = decideRate(200_000);
const rows = [];
for (const count of [1_000, 100_000, 1_000_000]) {
  const ids = users(count);
  const handleAll = (pipeline) => (n) => {
    for (let i = 0; i < n; i++) {
      payload.userId = ids[i % count];
      pipeline.handle(payload);
    }
  };
  handleAll(new DecisionPipeline())(50_000); // warm-up

  // First sight of every user: each call builds an exposure and inserts a dedup entry.
  const reps = Math.ceil(500_000 / count);
  let elapsed = 0n;
  for (let r = 0; r < reps; r++) {
    const t = process.hrtime.bigint();
    handleAll(new DecisionPipeline({ dedup: { maxEntries: 2 * count } }))(count);
    elapsed += process.hrtime.bigint() - t;
  }
  const newPerSecond = (reps * count) / (Number(elapsed) / 1e9);

  // Memory in a pass of its own, on a settled heap.
  const before = heapUsed();
  const pipeline = new DecisionPipeline({ dedup: { maxEntries: 2 * count } });
  handleAll(pipeline)(count);
  const bytesPerEntry = (heapUsed() - before) / pipeline.deduplicator.size;

  // Every later decision for the same users is a duplicate.
  const dupPerSecond = rate(Math.max(count, 1_000_000), handleAll(pipeline));
  if (pipeline.deduplicator.size !== count) throw new Error('dedup lost entries');

  rows.push({
    users: count,
    'new exposures/s': Math.round(newPerSecond),
    'duplicates/s': Math.round(dupPerSecond),
    'cost vs decide() (new)': `${((decidePerSecond / newPerSecond) * 100).toFixed(1)}%`,
    'cost vs decide() (dup)': `${((decidePerSecond / dupPerSecond) * 100).toFixed(1)}%`,
    'bytes/entry': Math.round(bytesPerEntry),
  });
}

console.log(`core: normalize + dedup, Node ${process.version}, ${process.arch}`);
console.log(`baseline: SDK 6 decide() with no listener, ${Math.round(decidePerSecond)}/s`);
console.table(rows);
