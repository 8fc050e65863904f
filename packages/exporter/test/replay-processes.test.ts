import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { projectFingerprint, Spool } from '../src/spool.js';
import { exposures, startServer, TOKEN } from './helpers.js';

const EXPORTER_MAIN = join(__dirname, '..', 'dist', 'index.js');
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) fs.rmSync(dirs.pop() as string, { recursive: true, force: true });
});

function replayIn(dir: string, apiHost: string): Promise<{ replayed: number; exported: number }> {
  const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'replay.cjs')], {
    // A small queue: each takes one file at a time, so the two interleave on the folder.
    env: { PATH: process.env.PATH, EXPORTER_MAIN, TOKEN, API_HOST: apiHost, SPOOL_DIR: dir, MAX_QUEUE_SIZE: '40' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  return new Promise((resolve) => child.on('close', () => resolve(JSON.parse(out || '{}'))));
}

it('two processes replaying one spool never send the same record', async () => {
  const root = fs.mkdtempSync(join(tmpdir(), 'replay-processes-'));
  dirs.push(root);
  const dir = join(root, 'spool');
  const spool = new Spool({ dir, project: projectFingerprint(TOKEN) });
  for (let file = 0; file < 60; file++) {
    spool.appendSync(
      exposures(10, file * 10).flatMap((e) => [
        ...e.events.map((value) => ({ endpoint: 'track' as const, json: JSON.stringify(value) })),
        { endpoint: 'engage' as const, json: JSON.stringify(e.profileUpdate) },
      ]),
    );
  }
  const server = await startServer();
  server.injectFault('delay=20', { times: Infinity }); // requests overlap between the two

  const [a, b] = await Promise.all([replayIn(dir, server.url), replayIn(dir, server.url)]);
  expect(a.replayed + b.replayed).toBe(1200);
  expect(a.replayed).toBeGreaterThan(0);
  expect(b.replayed).toBeGreaterThan(0);
  expect(a.exported + b.exported).toBe(1200);
  // No record reached Mixpanel twice, and every one arrived.
  expect(server.store.duplicates).toBe(0);
  expect(server.events).toHaveLength(600);
  expect(server.profiles.size).toBe(600);
  expect(fs.readdirSync(dir).filter((name) => name.endsWith('.ndjson'))).toEqual([]);
  expect(fs.readdirSync(join(dir, 'claimed'))).toEqual([]);
});
