// Experiment context costs: per tracked event with local context (the app's `mixpanel` track, its
// network step left out so only our share remains), per decision (the context write on an exposure,
// memory and memory + Redis), bytes per stored user, and events/s through one Redis-backed service
// whose users were all decided elsewhere (every event looked up in Redis), against the same client
// uninstrumented. Needs redis-server on PATH (or REDIS_SERVER) and --expose-gc.
import './private-spool.cjs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createConnection, createServer } from 'node:net';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';
import { median } from './spread.cjs';

const require = createRequire(import.meta.url);
delete process.env.HTTP_PROXY;
delete process.env.HTTPS_PROXY;
const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');
const TOKEN = 'bench-token';
const FLAG = '[Optimizely] checkout_redesign';
const BANNER = '[Optimizely] premium_banner';

const { MixpanelInstrumentation, ExperimentContext, ExperimentContextStore } = require('../dist/index.js');
const { setSharedExperimentContext } = require('../dist/shared-context.js');
const instrumentation = new MixpanelInstrumentation();
const Mixpanel = require('mixpanel');

const quartiles = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor(s.length / 4)], s[Math.floor((3 * s.length) / 4)]];
};
const ns = (start) => Number(process.hrtime.bigint() - start);

// 1. Per tracked event, local context. send_request (serialization and HTTP) is left out of both
// clients: what remains is track() itself, plain or with the context added.
const memory = new ExperimentContext();
setSharedExperimentContext(memory);
const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
for (const id of users) {
  memory.record(id, FLAG, 'variation_a', Date.now());
  memory.record(id, BANNER, 'off', Date.now());
}
instrumentation.disable();
const plainClient = Mixpanel.init(TOKEN, { host: '127.0.0.1:9', protocol: 'http' });
instrumentation.enable();
const instrumentedClient = Mixpanel.init(TOKEN, { host: '127.0.0.1:9', protocol: 'http' });
if (!instrumentedClient.track.__wrapped) throw new Error('not instrumented');
for (const c of [plainClient, instrumentedClient]) c.send_request = () => {};

function trackRound(client, n) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) client.track('Purchase', { distinct_id: users[i % users.length], total: i });
  return ns(start) / n;
}
trackRound(plainClient, 50_000);
trackRound(instrumentedClient, 50_000);
const added = [];
for (let r = 0; r < 15; r++) {
  const first = r % 2 === 0;
  const a = trackRound(first ? plainClient : instrumentedClient, 100_000);
  const b = trackRound(first ? instrumentedClient : plainClient, 100_000);
  added.push(first ? b - a : a - b);
}

// 2. Per decision: the context write of one exposure (new users, as exposures are), against a bare
// Map.set of the same ids in the same rounds (the floor of any in-memory store).
const writeIds = Array.from({ length: 100_000 }, (_, i) => `writer-${i}`);
function writeRound(n) {
  const context = new ExperimentContext();
  const now = Date.now();
  let start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) context.record(writeIds[i], FLAG, 'variation_a', now);
  const ours = ns(start) / n;
  const map = new Map();
  start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) map.set(writeIds[i], { expiresAt: now, pairs: [FLAG, 'variation_a'] });
  return [ours, ns(start) / n];
}
const writes = [];
const writeFloor = [];
for (let r = 0; r < 9; r++) {
  const [ours, floor] = writeRound(writeIds.length);
  writes.push(ours);
  writeFloor.push(floor);
}

// Bytes per user (two flags) at the default cap; the ids exist before (the app holds them anyway).
const byteIds = Array.from({ length: 100_000 }, (_, i) => `bytes-user-${i}`);
gc();
const before = process.memoryUsage().heapUsed;
const store = new ExperimentContextStore();
for (const id of byteIds) {
  store.set(id, FLAG, 'variation_a', 1);
  store.set(id, BANNER, 'off', 1);
}
gc();
const bytesPerUser = (process.memoryUsage().heapUsed - before) / byteIds.length;
if (store.size !== byteIds.length) throw new Error('store lost entries'); // also keeps it alive until measured

// 3. Redis: a real server, one service that decided no one.
async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}
const port = await freePort();
const redisServer = spawn(
  process.env.REDIS_SERVER ?? 'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
process.once('exit', () => redisServer.kill('SIGKILL'));
const redisUrl = `redis://127.0.0.1:${port}`;
async function pong() {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      resolve(chunk.toString().startsWith('+PONG'));
      socket.end();
    });
    socket.on('error', () => resolve(false));
  });
}
while (!(await pong())) await new Promise((r) => setTimeout(r, 50));
// Room for every write of the rounds below, as the memory-only rounds have: no eviction in either.
const deciding = new ExperimentContext({ redisUrl, maxEntries: 1_000_000 });
// Writes with Redis: the synchronous part (what decide() pays), 1000 exposures per tick as in a busy
// service; the pipelined flush runs in the next tick, off the decide() path.
const redisWrites = [];
const fleetIds = Array.from({ length: 9 }, (_, r) => Array.from({ length: 20_000 }, (_, i) => `fleet-${r}-${i}`));
for (let r = 0; r < 9; r++) {
  const ids = fleetIds[r];
  let spent = 0;
  const now = Date.now();
  for (let chunk = 0; chunk < 20; chunk++) {
    const start = process.hrtime.bigint();
    for (let i = chunk * 1000; i < (chunk + 1) * 1000; i++) deciding.record(ids[i], FLAG, 'variation_a', now);
    spent += ns(start);
    await new Promise((resolve) => setImmediate(resolve));
  }
  redisWrites.push(spent / 20_000);
  await deciding.flush();
}
const fleetUsers = Array.from({ length: 2000 }, (_, i) => `fleet-0-${i}`);
const redisFailures = JSON.stringify(deciding.failures);
await deciding.close();

const { url: serverUrl, stop: stopServer } = await spawnLocalServer();
const host = new URL(serverUrl).host;
setSharedExperimentContext(new ExperimentContext({ redisUrl, maxEntries: 10, lookupTimeoutMs: 1000 }));
await new Promise((r) => setTimeout(r, 300)); // its connection
instrumentation.disable();
const plainService = Mixpanel.init(TOKEN, { host, protocol: 'http' });
instrumentation.enable();
const redisService = Mixpanel.init(TOKEN, { host, protocol: 'http' });

async function eventsPerSecond(client, n, concurrency = 50) {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from(
      { length: concurrency },
      async () =>
        new Promise((resolve) => {
          const one = () => {
            if (next >= n) return resolve();
            const id = fleetUsers[next++ % fleetUsers.length];
            client.track('Purchase', { distinct_id: id }, one);
          };
          one();
        }),
    ),
  );
  return n / (ns(start) / 1e9);
}
await eventsPerSecond(plainService, 500);
await eventsPerSecond(redisService, 500);
const eps = { plain: [], redis: [], ratio: [] };
for (let r = 0; r < 6; r++) {
  const p = await eventsPerSecond(plainService, 1000);
  const i = await eventsPerSecond(redisService, 1000);
  eps.plain.push(p);
  eps.redis.push(i);
  eps.ratio.push(i / p);
}
const stats = instrumentation.stats();

const [aq1, aq3] = quartiles(added);
const [rq1, rq3] = quartiles(eps.ratio);
console.log(
  `node: experiment context, Node ${process.version} (medians of interleaved rounds, with interquartile ranges)`,
);
console.table([
  {
    measure: 'added per tracked event, local context (ns)',
    median: Math.round(median(added)),
    range: `${Math.round(aq1)} to ${Math.round(aq3)}`,
  },
  {
    measure: 'context write per exposure, memory (ns)',
    median: Math.round(median(writes)),
    range: quartiles(writes).map(Math.round).join(' to '),
  },
  {
    measure: 'bare Map.set of the same ids, same rounds (ns)',
    median: Math.round(median(writeFloor)),
    range: quartiles(writeFloor).map(Math.round).join(' to '),
  },
  {
    measure: 'context write per exposure, memory + Redis queue (ns)',
    median: Math.round(median(redisWrites)),
    range: quartiles(redisWrites).map(Math.round).join(' to '),
  },
  { measure: 'bytes per user in memory (two flags)', median: Math.round(bytesPerUser), range: '' },
  {
    measure: 'events/s, one service, every event looked up in Redis',
    median: Math.round(median(eps.redis)),
    range: quartiles(eps.redis).map(Math.round).join(' to '),
  },
  {
    measure: 'events/s, same client uninstrumented',
    median: Math.round(median(eps.plain)),
    range: quartiles(eps.plain).map(Math.round).join(' to '),
  },
  {
    measure: 'Redis-backed / uninstrumented',
    median: median(eps.ratio).toFixed(3),
    range: `${rq1.toFixed(3)} to ${rq3.toFixed(3)}`,
  },
]);
console.log(
  `events with context from Redis: ${stats.withRedisContext}, without: ${stats.withoutContext}, lookups failed: ${stats.lookupFailed}; ` +
    `Redis write failures: ${redisFailures}`,
);
stopServer();
redisServer.kill('SIGTERM');
process.exit(0);
