// `pnpm test:versions`: the instrumentation tests against the latest patch of every published 5.x and
// 6.x minor of @optimizely/optimizely-sdk, as contrib's test-all-versions does. Each version is
// installed with npm into test/versions/.sdk/<version> (git-ignored, reused by later runs), then
// test/versions is run against it. Prints which versions passed; exits non-zero if any failed.
//
//   node scripts/test-versions.mjs            every minor of 5.x and 6.x
//   node scripts/test-versions.mjs --edges    the oldest and newest minor of each major (CI)
//   node scripts/test-versions.mjs 6.3.1 ...  these versions
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK = '@optimizely/optimizely-sdk';
const MAJORS = [5, 6];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installs = join(root, 'test', 'versions', '.sdk');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The latest patch of each minor of the supported majors, oldest first (pre-releases left out). */
function latestPatches() {
  const published = JSON.parse(execFileSync(npm, ['view', SDK, 'versions', '--json'], { encoding: 'utf8' }));
  const byMinor = new Map();
  for (const version of published) {
    const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
    if (!match || !MAJORS.includes(Number(match[1]))) continue;
    const [major, minor, patch] = match.slice(1).map(Number);
    const key = `${major}.${minor}`;
    if (!byMinor.has(key) || byMinor.get(key).patch < patch) byMinor.set(key, { major, minor, patch, version });
  }
  return [...byMinor.values()].sort((a, b) => a.major - b.major || a.minor - b.minor);
}

/** The oldest and newest minor of each major. */
function edges(versions) {
  return MAJORS.flatMap((major) => {
    const of = versions.filter((v) => v.major === major);
    return [...new Set([of[0], of[of.length - 1]])].filter(Boolean);
  });
}

function install(version) {
  const dir = join(installs, version);
  const installed = join(dir, 'node_modules', ...SDK.split('/'), 'package.json');
  if (existsSync(installed) && JSON.parse(readFileSync(installed, 'utf8')).version === version) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `sdk-${version}`, private: true })}\n`);
  execFileSync(
    npm,
    ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', `${SDK}@${version}`],
    { cwd: dir, stdio: 'inherit' },
  );
  return dir;
}

const args = process.argv.slice(2);
const all = latestPatches();
const chosen = args.includes('--edges')
  ? edges(all).map((v) => v.version)
  : args.length > 0
    ? args
    : all.map((v) => v.version);
console.log(`${SDK}: testing ${chosen.join(', ')}`);

execFileSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
const results = [];
for (const version of chosen) {
  console.log(`\n=== ${SDK}@${version}`);
  let ok = false;
  try {
    const dir = install(version);
    const run = spawnSync('pnpm', ['exec', 'vitest', 'run', 'test/versions'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, OPTIMIZELY_SDK_DIRS: dir },
    });
    ok = run.status === 0;
  } catch (error) {
    console.error(`cannot test ${version}: ${error.message}`);
  }
  results.push({ version, ok });
}

const passed = results.filter((r) => r.ok).map((r) => r.version);
const failed = results.filter((r) => !r.ok).map((r) => r.version);
console.log(`\n${SDK} versions passed: ${passed.join(', ') || 'none'}`);
if (failed.length > 0) {
  console.log(`${SDK} versions FAILED: ${failed.join(', ')}`);
  process.exitCode = 1;
}
