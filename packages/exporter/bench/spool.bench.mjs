// The spool: write and replay rates (records/s), and the time an exit with 20 000 pending records
// takes to write them (persistSync, which is what a process `exit` listener runs). Each figure is
// the median of ROUNDS runs with its spread (min-max), and a ratio against a baseline measured in
// the same run: plain writeFileSync / readFileSync + JSON.parse of the same records (no rename, no
// fsync, no validation), and for the exit, the same exporter with the spool off.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionPipeline } from '@optimizely-mixpanel/core';
import { projectFingerprint, Spool } from '../dist/spool.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RECORDS = 20_000;
const PER_FILE = 2000;
const TOKEN = 'bench-token';

function makeRecords(count) {
  const pipeline = new DecisionPipeline({ dedup: false });
  const out = [];
  for (let n = 0; out.length < count; n++) {
    const { exposure } = pipeline.handle({
      type: 'flag',
      userId: `user-${n}`,
      decisionInfo: {
        flagKey: 'checkout_redesign',
        enabled: true,
        variationKey: n % 2 ? 'variation_a' : 'control',
        ruleKey: 'checkout_redesign_ab',
        decisionEventDispatched: true,
        experimentId: '40000000001',
        variationId: '70000000001',
      },
    });
    for (const value of exposure.events) out.push({ endpoint: 'track', json: JSON.stringify(value), value });
    out.push({ endpoint: 'engage', json: JSON.stringify(exposure.profileUpdate), value: exposure.profileUpdate });
  }
  return out.slice(0, count);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}`;
const time = (fn) => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const records = makeRecords(RECORDS);
const root = fs.mkdtempSync(join(tmpdir(), 'spool-bench-'));
const rates = { write: [], writeBase: [], replay: [], replayBase: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    const dir = join(root, `spool-${round}`);
    const spool = new Spool({ dir, project: projectFingerprint(TOKEN), maxBytes: 1 << 30 });
    rates.write.push(
      RECORDS /
        (time(() => {
          for (let i = 0; i < RECORDS; i += PER_FILE) spool.appendSync(records.slice(i, i + PER_FILE));
        }) /
          1000),
    );
    const plain = join(root, `plain-${round}`);
    fs.mkdirSync(plain);
    rates.writeBase.push(
      RECORDS /
        (time(() => {
          for (let i = 0; i < RECORDS; i += PER_FILE) {
            const body = records
              .slice(i, i + PER_FILE)
              .map((r) => r.json)
              .join('\n');
            fs.writeFileSync(join(plain, `${i}.ndjson`), body);
          }
        }) /
          1000),
    );
    const reader = new Spool({ dir, project: projectFingerprint(TOKEN) });
    let replayed = 0;
    rates.replay.push(
      RECORDS /
        (time(() => {
          for (let claim = reader.claim(); claim; claim = reader.claim()) {
            replayed += claim.records.length;
            claim.release();
          }
        }) /
          1000),
    );
    if (replayed !== RECORDS) throw new Error(`replayed ${replayed} of ${RECORDS}`);
    rates.replayBase.push(
      RECORDS /
        (time(() => {
          for (const name of fs.readdirSync(plain)) {
            for (const line of fs.readFileSync(join(plain, name), 'utf8').split('\n')) JSON.parse(line);
          }
        }) /
          1000),
    );
  }

  // Exit with 20 000 pending records: persistSync's duration, in a fresh process each round.
  const exitScript = `
    const { MixpanelExporter } = require(${JSON.stringify(join(import.meta.dirname, '..', 'dist', 'index.js'))});
    const records = JSON.parse(require('node:fs').readFileSync(process.env.RECORDS, 'utf8'));
    const exporter = new MixpanelExporter({
      token: 'bench-token', apiHost: 'http://127.0.0.1:9', maxQueueSize: 100000, maxQueueBytes: 1 << 30,
      flushIntervalMs: 3600000, spool: process.env.SPOOL === 'off' ? false : { dir: process.env.DIR },
    });
    for (const r of records) r.endpoint === 'engage' ? exporter.enqueueProfileUpdate(r.value) : exporter.enqueueEvent(r.value);
    const start = process.hrtime.bigint();
    const result = exporter.persistSync();
    process.stdout.write(JSON.stringify({ ms: Number(process.hrtime.bigint() - start) / 1e6, spooled: result.spooled }));
    process.exit(0);`;
  const recordsFile = join(root, 'records.json');
  fs.writeFileSync(recordsFile, JSON.stringify(records.map(({ endpoint, value }) => ({ endpoint, value }))));
  const exit = { spool: [], off: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['spool', 'off']) {
      const run = spawnSync(process.execPath, ['-e', exitScript], {
        env: { PATH: process.env.PATH, RECORDS: recordsFile, DIR: join(root, `exit-${round}`), SPOOL: mode },
      });
      const out = JSON.parse(run.stdout.toString());
      if (mode === 'spool' && out.spooled !== RECORDS) throw new Error(`spooled ${out.spooled} of ${RECORDS}`);
      exit[mode].push(out.ms);
    }
  }

  const row = (name, xs, base, unit = 'records/s') =>
    `| ${name} | ${Math.round(median(xs)).toLocaleString('en')} ${unit} | ${spread(xs)} | ${(median(xs) / median(base)).toFixed(2)} |`;
  console.log(
    `\nSpool, ${RECORDS.toLocaleString('en')} records (${PER_FILE} per file), median of ${ROUNDS} (Node ${process.version})\n`,
  );
  console.log('| measure | median | spread | ratio to baseline |');
  console.log('| --- | --- | --- | --- |');
  console.log(row('write (write, rename; no fsync)', rates.write, rates.writeBase));
  console.log(row('  baseline: writeFileSync', rates.writeBase, rates.writeBase));
  console.log(row('replay (claim, read, validate)', rates.replay, rates.replayBase));
  console.log(row('  baseline: readFileSync + JSON.parse', rates.replayBase, rates.replayBase));
  console.log(
    `| exit with ${RECORDS.toLocaleString('en')} pending: persistSync | ${median(exit.spool).toFixed(1)} ms | ${Math.min(...exit.spool).toFixed(1)}-${Math.max(...exit.spool).toFixed(1)} | ${(median(exit.spool) / Math.max(median(exit.off), 0.001)).toFixed(0)}x the spool-off exit (${median(exit.off).toFixed(2)} ms) |`,
  );
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
