import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalMixpanelServer } from '@optimizely-mixpanel/local-server';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { DATAFILE_PATH } from '../../../test/support/optimizely.js';
import { FIXTURES } from './helpers.js';

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  child: ChildProcess;
  /** Stdout and stderr so far. */
  stdout: () => string;
  stderr: () => string;
  done: Promise<Run>;
}

/**
 * Starts `node [args] entry` in a fixture folder with only the environment
 * given (and PATH, DATAFILE), as a user's process would run.
 */
export function startNode(
  fixture: keyof typeof FIXTURES,
  args: string[],
  env: Record<string, string | undefined>,
  options: { uid?: number; gid?: number } = {},
): Started {
  const child = spawn(process.execPath, args, {
    cwd: FIXTURES[fixture],
    env: { PATH: process.env.PATH, DATAFILE: DATAFILE_PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c) => {
    stdout += c;
  });
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs a fixture entry, with the preload (`--require`) or without it. */
export function runNode(
  fixture: keyof typeof FIXTURES,
  entry: string,
  preload: boolean,
  env: Record<string, string | undefined>,
  options: { uid?: number; gid?: number } = {},
): Promise<Run> {
  const args = preload ? ['--require', '@optimizely-mixpanel/node/register', entry] : [entry];
  return startNode(fixture, args, env, options).done;
}

/** A fresh folder under the temp folder, removed by the returned function. */
export function tempFolder(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The spool files waiting in `dir`. */
export function spoolFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith('.ndjson')) : [];
}

/** Our diag lines, which are the only output the instrumentation may add. */
export const OUR_LINE = /^@optimizely-mixpanel\/.*$\n?/gm;

/**
 * For a test file of child processes that spool: one local Mixpanel server for the file (reset before
 * each test) and a fresh temporary folder per test, `dir`, with `spoolDir` inside it.
 */
export function serverAndSpool(
  token: string,
  prefix: string,
): { server: LocalMixpanelServer; dir: string; spoolDir: string } {
  const harness = { server: new LocalMixpanelServer({ token }), dir: '', spoolDir: '' };
  let folder: ReturnType<typeof tempFolder> | undefined;
  beforeAll(async () => {
    await harness.server.start();
  });
  afterAll(() => harness.server.stop());
  beforeEach(() => {
    harness.server.reset();
    folder = tempFolder(prefix);
    harness.dir = folder.dir;
    harness.spoolDir = `${folder.dir}/spool`;
  });
  afterEach(() => folder?.remove());
  return harness;
}
