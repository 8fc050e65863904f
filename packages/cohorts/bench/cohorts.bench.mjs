// Cohort targeting costs, with 1 000 000 members over 20 cohorts (50 000 each):
// - createUserContext() of SDK 6.6.1 and 5.4.1 with the cohort wrapper, as a ratio to the same
//   call on an uninstrumented client (paired, interleaved rounds; median and interquartile range);
// - heap per member of the replica (the index every app process keeps);
// - the time to apply one 1000-member webhook page on the file store and on Redis holding those cohorts.
// Run with --expose-gc. Figures are from whatever machine runs it: compare ratios, not absolutes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { CohortReplica, FileCohortStore, RedisCohortStore, instrumentUserContexts } = require('../dist/index.js');
const datafile = readFileSync(new URL('../../../test/fixtures/datafile-cohorts.json', import.meta.url), 'utf8');

const COHORTS = 20;
const PER_COHORT = 50_000;
const cohortIds = Array.from({ length: COHORTS }, (_, c) => String(1000 + c));
const memberId = (c, i) => `user-${c}-${i}`;
const membersOf = (c, perCohort = PER_COHORT) => Array.from({ length: perCohort }, (_, i) => memberId(c, i));

/** The smallest store that satisfies CohortReplica: the figures are the replica's alone. */
function memoryStore(perCohort = PER_COHORT) {
  return {
    async cohorts() {
      return cohortIds.map((id, c) => ({ id, name: `Cohort ${c}`, version: 1, count: perCohort }));
    },
    async members(id) {
      return membersOf(cohortIds.indexOf(id), perCohort);
    },
    watch: () => () => {},
    async apply() {},
    async close() {},
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quartiles = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor(s.length / 4)], s[Math.floor((3 * s.length) / 4)]];
};

// --- memory per member ---
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const replica = new CohortReplica(memoryStore());
await replica.ready();
global.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
const members = COHORTS * PER_COHORT;
const bytesPerMember = (heapAfter - heapBefore) / members;

// --- createUserContext ---
function createClient(sdk) {
  if (typeof sdk.createStaticProjectConfigManager === 'function') {
    return sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });
  }
  return sdk.createInstance({
    datafile,
    logLevel: 'error',
    eventDispatcher: { dispatchEvent: (_e, cb) => cb?.({ statusCode: 204 }) },
    odpOptions: { disabled: true },
  });
}
const memberUsers = Array.from({ length: 1000 }, (_, i) => memberId(i % COHORTS, i * 37));
const otherUsers = Array.from({ length: 1000 }, (_, i) => `visitor-${i}`);
function perSecond(client, users, ops) {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) sink += client.createUserContext(users[i % users.length]) ? 1 : 0;
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink !== ops) throw new Error('createUserContext returned nothing');
  return ops / s;
}
const rows = [];
const SKIP_STORES = process.env.BENCH_COHORTS_SKIP_STORES === '1';
// The same with 1000 members (50 per cohort): what the lookup costs when the table fits in cache.
const small = new CohortReplica(memoryStore(50));
await small.ready();
const smallMembers = Array.from({ length: 1000 }, (_, i) => memberId(i % COHORTS, i % 50));
const variants = [
  ['optimizely-sdk-v6', replica, memberUsers, '1 000 000'],
  ['optimizely-sdk-v5', replica, memberUsers, '1 000 000'],
  ['optimizely-sdk-v6', small, smallMembers, '1 000'],
];
for (const [name, index, members, size] of variants) {
  const sdk = require(name);
  const plain = createClient(sdk);
  const wrapped = createClient(sdk);
  instrumentUserContexts(wrapped, (id) => index.segmentsFor(id));
  if (!wrapped.createUserContext(members[0]).qualifiedSegments?.length) throw new Error('not qualified');
  for (const [who, users] of [
    ['cohort members', members],
    ['non-members', otherUsers],
  ]) {
    perSecond(plain, users, 20_000);
    perSecond(wrapped, users, 20_000);
    const ratios = [];
    const base = [];
    for (let r = 0; r < 15; r++) {
      const plainFirst = r % 2 === 0;
      const a = perSecond(plainFirst ? plain : wrapped, users, 50_000);
      const b = perSecond(plainFirst ? wrapped : plain, users, 50_000);
      const [p, w] = plainFirst ? [a, b] : [b, a];
      base.push(p);
      ratios.push(p / w); // time of the wrapped call relative to the plain one
    }
    const [q1, q3] = quartiles(ratios);
    rows.push({
      SDK: name === 'optimizely-sdk-v6' ? '6.6.1' : '5.4.1',
      'members in replica': size,
      users: who,
      'uninstrumented calls/s': Math.round(median(base)),
      'time vs uninstrumented': `${median(ratios).toFixed(2)}x`,
      'IQR of 15 pairs': `${q1.toFixed(2)}x-${q3.toFixed(2)}x`,
    });
  }
  plain.close();
  wrapped.close();
}
small.close();
replica.close();

function report(applyRows) {
  console.log(`cohorts: ${members.toLocaleString('en')} members over ${COHORTS} cohorts, Node ${process.version}`);
  console.log(
    `replica heap: ${bytesPerMember.toFixed(0)} bytes per member (${((heapAfter - heapBefore) / 2 ** 20).toFixed(0)} MiB)`,
  );
  console.log('createUserContext() with the cohort wrapper, time per call relative to an uninstrumented client:');
  console.table(rows);
  if (applyRows.length === 0) return;
  console.log('applying one 1000-member page to a store holding those cohorts:');
  console.table(applyRows);
}
if (SKIP_STORES) {
  report([]);
  process.exit(0);
}

// --- applying a 1000-member page ---
const dir = mkdtempSync(join(tmpdir(), 'cohort-bench-'));
const page = (n, action, extra = {}) => ({
  action,
  cohortId: cohortIds[0],
  cohortName: 'Cohort 0',
  sessionId: `bench-${n}`,
  page: 1,
  totalPages: 1,
  members: Array.from({ length: 1000 }, (_, i) => `page-${n}-${i}`),
  ...extra,
});
async function timeApplies(store, make, rounds) {
  const times = [];
  for (let n = 0; n < rounds; n++) {
    const request = make(n);
    const start = process.hrtime.bigint();
    await store.apply(request);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}
const applyRows = [];
const filePath = join(dir, 'cohorts.json');
writeFileSync(
  filePath,
  JSON.stringify({
    format: 'optimizely-mixpanel-cohorts',
    formatVersion: 1,
    cohorts: Object.fromEntries(
      cohortIds.map((id, c) => [id, { name: `Cohort ${c}`, version: 1, members: membersOf(c) }]),
    ),
    staging: {},
    done: {},
  }),
);
const fileStore = new FileCohortStore(filePath);
await fileStore.cohorts();
for (const [what, make] of [
  ['add_members', (n) => page(n, 'add_members')],
  ['members, page 1 of 3 (staged)', (n) => page(n, 'members', { totalPages: 3 })],
]) {
  const t = await timeApplies(fileStore, make, 7);
  applyRows.push({
    store: 'file (fsync + rename)',
    page: what,
    'median ms': median(t).toFixed(1),
    'min-max ms': `${Math.min(...t).toFixed(1)}-${Math.max(...t).toFixed(1)}`,
  });
}
await fileStore.close();

async function freePort() {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}
let redisServer;
try {
  const port = await freePort();
  redisServer = spawn(
    process.env.REDIS_SERVER ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  redisServer.on('error', () => {});
  const store = new RedisCohortStore({ url: `redis://127.0.0.1:${port}` });
  await store.ready(5000);
  for (const [c, id] of cohortIds.entries())
    await store.apply({ ...page(0, 'members'), cohortId: id, sessionId: `load-${c}`, members: membersOf(c) });
  for (const [what, make] of [
    ['add_members', (n) => page(n, 'add_members')],
    ['members, page 1 of 3 (staged)', (n) => page(n, 'members', { totalPages: 3 })],
  ]) {
    const t = await timeApplies(store, make, 15);
    applyRows.push({
      store: 'Redis (loopback)',
      page: what,
      'median ms': median(t).toFixed(1),
      'min-max ms': `${Math.min(...t).toFixed(1)}-${Math.max(...t).toFixed(1)}`,
    });
  }
  await store.close();
} catch (error) {
  applyRows.push({ store: 'Redis', page: `skipped: ${error.message}` });
} finally {
  redisServer?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

report(applyRows);
process.exit(0);
