// Where the time goes under the preload: runs profile-worker.cjs with --cpu-prof against the local
// Mixpanel-compatible server and prints the functions with the most self time.
//   node bench/profile.mjs [returning|fresh] [seconds]     (the .cpuprofile is kept for flame graphs;
//   BENCH_SDK=5 profiles SDK 5.4.1 instead of 6.6.1)
import './private-spool.cjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';

const kind = process.argv[2] ?? 'fresh';
const seconds = process.argv[3] ?? '4';
const dir = mkdtempSync(join(tmpdir(), `decide-profile-${kind}-`));
const { url, stop } = await spawnLocalServer();
const cwd = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, MIXPANEL_TOKEN: 'bench-token', MIXPANEL_API_HOST: url };
delete env.HTTP_PROXY;
delete env.HTTPS_PROXY;
const child = spawnSync(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    '--cpu-prof-interval=200',
    '--require',
    '@optimizely-mixpanel/node/register',
    'bench/profile-worker.cjs',
    kind,
    seconds,
  ],
  { cwd, env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
);
stop();
if (child.status !== 0) throw new Error(`profile worker failed: ${child.status}`);
const from = Number(/measured from (\d+)/.exec(child.stdout)[1]);
// The main thread's profile (thread 0); the ESM loader-hooks thread writes one too.
const file = join(
  dir,
  readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)),
);
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time per function: samples (after warm-up) whose leaf is the node. Sample times are
// microseconds on the monotonic clock that process.hrtime reads.
const hits = new Map();
let t = profile.startTime;
let first = -1;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i];
  if (t < from) return;
  if (first < 0) first = t;
  hits.set(id, (hits.get(id) ?? 0) + 1);
});
const dt = (profile.endTime - first) / [...hits.values()].reduce((a, b) => a + b, 0);
const self = new Map();
let total = 0;
for (const node of profile.nodes) {
  const n = hits.get(node.id) ?? 0;
  if (n === 0) continue;
  const { functionName, url: source, lineNumber } = node.callFrame;
  const where = source
    ? `${source.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/packages\//, '')}:${lineNumber + 1}`
    : '';
  const key = `${functionName || '(anonymous)'} ${where}`;
  self.set(key, (self.get(key) ?? 0) + n);
  total += n;
}
const busy = total - (self.get('(idle) ') ?? 0);
console.log(
  `${kind}: ${((total * dt) / 1e6).toFixed(1)} s sampled, ${((busy * dt) / 1e6).toFixed(1)} s busy; profile: ${file}`,
);
console.table(
  [...self.entries()]
    .filter(([key]) => key !== '(idle) ')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)
    .map(([fn, n]) => ({ 'self % of busy': ((n / busy) * 100).toFixed(1), function: fn })),
);

// Inclusive time of this project's functions (their callees counted), once per sample.
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const inclusive = new Map();
for (const [id, n] of hits) {
  const counted = new Set();
  for (let node = byId.get(id); node; node = parent.get(node.id)) {
    const { functionName, url: source, lineNumber } = node.callFrame;
    if (!/\/packages\/(core|node|exporter)\/dist\//.test(source)) continue;
    const key = `${functionName || '(anonymous)'} ${source.replace(/^.*\/packages\//, '')}:${lineNumber + 1}`;
    if (counted.has(key)) continue;
    counted.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + n);
  }
}
console.log('this project, inclusive:');
console.table(
  [...inclusive.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([fn, n]) => ({ 'total % of busy': ((n / busy) * 100).toFixed(1), function: fn })),
);
