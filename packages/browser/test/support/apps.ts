/**
 * Example apps installed as a user installs them: the workspace packages packed
 * with `pnpm pack`, then `npm install` in a folder outside the workspace. The
 * install is kept in the OS temp dir, keyed by the tarballs and the apps'
 * package.json files, so later runs with the same packages reuse it; installs
 * unused for a day are removed.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const CACHE = join(tmpdir(), 'optimizely-mixpanel-apps');

export interface InstalledApps {
  /** The npm workspace root; each app is a folder in it. */
  root: string;
  dir(app: string): string;
}

/** The workspace packages `names` need, themselves included: their `workspace:` dependencies, recursively. */
function withDependencies(names: string[]): Map<string, string> {
  const folders = new Map<string, { dir: string; deps: string[] }>();
  for (const folder of readdirSync(join(REPO, 'packages'))) {
    const file = join(REPO, 'packages', folder, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    const deps = Object.entries<string>({ ...manifest.dependencies, ...manifest.peerDependencies })
      .filter(([, spec]) => spec.startsWith('workspace:'))
      .map(([name]) => name);
    folders.set(manifest.name, { dir: join(REPO, 'packages', folder), deps });
  }
  const needed = new Map<string, string>();
  const visit = (name: string) => {
    const entry = folders.get(name);
    if (!entry || needed.has(name)) return;
    needed.set(name, entry.dir);
    entry.deps.forEach(visit);
  };
  names.forEach(visit);
  return needed;
}

async function pack(packages: string[], into: string): Promise<Record<string, string>> {
  mkdirSync(into, { recursive: true });
  const tarballs: Record<string, string> = {};
  for (const [name, dir] of withDependencies(packages)) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', into], { cwd: dir });
    tarballs[name] = stdout.trim().split('\n').pop() as string;
  }
  return tarballs;
}

function sha(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Removes installs of other packages unused for an hour: each is about 230 MB, and every change to a
 * package makes a new one. A run marks its install as it starts and lasts minutes, so a concurrent
 * run's install is never older than that.
 */
function prune(keep: string): void {
  if (!existsSync(CACHE)) return;
  const hourAgo = Date.now() - 3_600_000;
  for (const entry of readdirSync(CACHE)) {
    if (entry === keep || entry.startsWith('pack-')) continue;
    const path = join(CACHE, entry);
    try {
      const marker = join(path, '.installed');
      if (statSync(existsSync(marker) ? marker : path).mtimeMs < hourAgo)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another run.
    }
  }
}

/**
 * Packs `packages` (package names) and the workspace packages they depend on, and installs `apps`
 * (folder names under examples/) with npm as one npm workspace, their
 * `workspace:` dependencies pointing at the tarballs. The apps' sources are
 * copied afresh on every call.
 */
export async function installApps(packages: string[], apps: string[]): Promise<InstalledApps> {
  const staging = join(CACHE, `pack-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const packed = await pack(packages, staging);
  const manifests = apps.map((app) => readFileSync(join(REPO, 'examples', app, 'package.json'), 'utf8'));
  const key = sha(...Object.values(packed).map((file) => readFileSync(file)), ...manifests);
  const root = join(CACHE, key);

  if (!existsSync(join(root, '.installed'))) {
    prune(key);
    // Installed beside the final folder, then renamed into place: a run that finds the folder finds it whole.
    const work = `${root}.${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, 'packs'), { recursive: true });
    const local: Record<string, string> = {};
    for (const [name, file] of Object.entries(packed)) {
      const tarball = file.split('/').pop() as string;
      cpSync(file, join(work, 'packs', tarball));
      local[name] = `packs/${tarball}`;
    }
    apps.forEach((app, i) => {
      const manifest = JSON.parse(manifests[i] as string);
      for (const field of ['dependencies', 'devDependencies']) {
        const deps = manifest[field] ?? {};
        for (const name of Object.keys(deps)) {
          if (!String(deps[name]).startsWith('workspace:')) continue;
          // The local server runs from the workspace in the tests; the app needs only the packages it ships.
          if (local[name]) deps[name] = `file:../${local[name]}`;
          else delete deps[name];
        }
      }
      mkdirSync(join(work, app), { recursive: true });
      writeFileSync(join(work, app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    });
    // overrides: the packed packages, never registry packages of the same names.
    const overrides = Object.fromEntries(
      Object.entries(local).map(([name, path]) => [name, `file:${join(work, path)}`]),
    );
    writeFileSync(
      join(work, 'package.json'),
      JSON.stringify({ name: 'apps', private: true, workspaces: apps, overrides }, null, 2),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: work,
      env: { ...process.env, npm_config_update_notifier: 'false' },
      maxBuffer: 16 * 1024 * 1024,
    });
    writeFileSync(join(work, '.installed'), new Date().toISOString());
    if (existsSync(join(root, '.installed'))) {
      // Another run installed the same packages meanwhile: use its folder.
      rmSync(work, { recursive: true, force: true });
    } else {
      rmSync(root, { recursive: true, force: true });
      renameSync(work, root);
    }
  }
  // Marks the install as in use, so other runs do not prune it.
  const now = new Date();
  utimesSync(join(root, '.installed'), now, now);
  rmSync(staging, { recursive: true, force: true });

  for (const app of apps) {
    const source = join(REPO, 'examples', app);
    for (const entry of readdirSync(source)) {
      if (entry === 'package.json' || entry === 'node_modules' || entry.startsWith('dist')) continue;
      cpSync(join(source, entry), join(root, app, entry), { recursive: true });
    }
  }
  return { root, dir: (app) => join(root, app) };
}

/** Runs a command of an installed app (`node node_modules/...`), failing with its output. */
export async function runIn(cwd: string, command: string, args: string[], env: Record<string, string> = {}) {
  try {
    return await run(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}
