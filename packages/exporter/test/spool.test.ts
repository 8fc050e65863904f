import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSpoolDir, projectFingerprint, Spool, type SpoolRecord } from '../src/spool.js';
import { exposures, TOKEN } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) fs.rmSync(dirs.pop() as string, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), 'spool-test-'));
  dirs.push(dir);
  return join(dir, 'spool');
}

function records(count: number, offset = 0): SpoolRecord[] {
  return exposures(count, offset).flatMap((exposure) => [
    ...exposure.events.map((value) => ({ endpoint: 'track' as const, json: JSON.stringify(value) })),
    { endpoint: 'engage' as const, json: JSON.stringify(exposure.profileUpdate) },
  ]);
}

function open(dir: string, options: Partial<ConstructorParameters<typeof Spool>[0]> = {}, warnings: string[] = []) {
  return new Spool({ dir, project: projectFingerprint(TOKEN), ...options }, (message) => warnings.push(message));
}

function claimAll(spool: Spool): SpoolRecord[] {
  const out: SpoolRecord[] = [];
  for (let claim = spool.claim(); claim; claim = spool.claim()) {
    out.push(...claim.records);
    claim.release();
  }
  return out;
}

describe('Spool', () => {
  it('replays records unchanged, from a private folder, and removes what was released', async () => {
    const dir = tempDir();
    const spool = open(dir);
    const first = records(3);
    const second = records(2, 3);
    expect(spool.appendSync(first)).toMatchObject({ written: 6, dropped: {} });
    expect((await spool.append(second)).written).toBe(4);

    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const files = fs.readdirSync(dir).filter((name) => name.endsWith('.ndjson'));
    expect(files).toHaveLength(2);
    for (const name of files) expect(fs.statSync(join(dir, name)).mode & 0o777).toBe(0o600);

    // Another process (a new Spool) reads them back, oldest first, byte for byte the same values.
    const replay = open(dir);
    expect(claimAll(replay)).toEqual([...first, ...second]);
    expect(replay.stats().replayed).toBe(10);
    expect(replay.claim()).toBeUndefined();
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.ndjson'))).toEqual([]);
    expect(fs.readdirSync(join(dir, 'claimed'))).toEqual([]);
  });

  it('two spools on one folder never get the same file', () => {
    const dir = tempDir();
    const writer = open(dir);
    for (let i = 0; i < 10; i++) writer.appendSync(records(1, i));
    const a = open(dir);
    const b = open(dir);
    const seen: string[] = [];
    for (;;) {
      const claims = [a.claim(), b.claim()].filter((c) => c !== undefined);
      if (claims.length === 0) break;
      for (const claim of claims) {
        seen.push(...claim.records.map((r) => r.json));
        claim.release();
      }
    }
    expect(seen).toHaveLength(20);
    expect(new Set(seen).size).toBe(20);
  });

  it('sets a torn file and a foreign file aside, counts them, and replays the rest', () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const spool = open(dir, {}, warnings);
    spool.appendSync(records(2));
    const torn = spool.appendSync(records(2, 2)).file as string;
    spool.appendSync(records(2, 4));
    // A crash of the disk or a copy cut short: the file lost its tail.
    const text = fs.readFileSync(torn, 'utf8');
    fs.writeFileSync(torn, text.slice(0, text.length - 40));
    fs.writeFileSync(join(dir, '00000000000001-foreign.ndjson'), 'not a spool file\n');

    const replay = open(dir, {}, warnings);
    const replayed = claimAll(replay);
    expect(replayed.map((r) => (JSON.parse(r.json) as { $distinct_id?: string }).$distinct_id).filter(Boolean)).toEqual(
      ['user-0', 'user-1', 'user-4', 'user-5'],
    );
    expect(replay.stats().setAside).toBe(2);
    expect(fs.readdirSync(join(dir, 'set-aside'))).toHaveLength(2);
    expect(warnings.filter((w) => /set aside/.test(w))).toHaveLength(2);
  });

  it('a temporary file left by a process that died mid-write is set aside', () => {
    const dir = tempDir();
    const spool = open(dir, { now: () => Date.now() + 120_000 });
    expect(spool.usable).toBe(true);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(join(dir, `.tmp-00000000000001-${dead}-0-abcd`), '{"format":"optimizely-mixpanel-spool"');
    expect(spool.claim()).toBeUndefined();
    expect(spool.stats().setAside).toBe(1);
  });

  it('leaves another project’s files in a shared folder alone', () => {
    const dir = tempDir();
    open(dir, { project: projectFingerprint('other-project') }).appendSync(records(1));
    const spool = open(dir);
    expect(spool.claim()).toBeUndefined();
    expect(spool.stats().setAside).toBe(0);
    expect(claimAll(open(dir, { project: projectFingerprint('other-project') }))).toHaveLength(2);
  });

  it('puts back a claim whose process is gone', () => {
    const dir = tempDir();
    open(dir).appendSync(records(1));
    const name = fs.readdirSync(dir).find((n) => n.endsWith('.ndjson')) as string;
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.renameSync(join(dir, name), join(dir, 'claimed', `${name}.${dead}`));
    expect(claimAll(open(dir))).toHaveLength(2);
  });

  it('counts what passes the byte cap as spool_full', () => {
    const dir = tempDir();
    const spool = open(dir, { maxBytes: 4096 });
    const result = spool.appendSync(records(20));
    expect(result.written).toBeGreaterThan(0);
    expect(result.written).toBeLessThan(40);
    expect(result.dropped.spool_full).toBe(40 - result.written);
    expect(spool.appendSync(records(5)).dropped.spool_full).toBe(10);
    expect(spool.stats().dropped.spool_full).toBe(40 - result.written + 10);
  });

  it('counts events older than /track accepts as expired, on write and on replay', () => {
    const dir = tempDir();
    const day = 24 * 60 * 60 * 1000;
    const recs = records(2);
    const spool = open(dir, { now: () => Date.now() + 6 * day });
    expect(spool.appendSync(recs).dropped.expired).toBe(2); // the two events; profile updates carry no time
    const fresh = open(dir);
    fresh.appendSync(records(2, 2));
    const later = open(dir, { now: () => Date.now() + 6 * day });
    expect(claimAll(later)).toHaveLength(2 + 2);
    expect(later.stats().dropped.expired).toBe(2);
  });

  it('a folder that cannot be made gives one warning and drops counted as spool_error', async () => {
    const dir = tempDir();
    fs.mkdirSync(join(dir, '..'), { recursive: true });
    fs.writeFileSync(join(dir, '..', 'file'), '');
    const warnings: string[] = [];
    const spool = open(join(dir, '..', 'file', 'spool'), {}, warnings);
    expect(spool.appendSync(records(2)).dropped.spool_error).toBe(4);
    expect((await spool.append(records(2))).dropped.spool_error).toBe(4);
    expect(spool.claim()).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/spool unavailable/);
  });
});

describe('defaultSpoolDir', () => {
  it('derives the folder from the state folder and a hash of the token, never the token', () => {
    const dir = defaultSpoolDir(TOKEN, { XDG_STATE_HOME: '/state' }) as string;
    expect(dir).toBe(join('/state', 'optimizely-mixpanel', projectFingerprint(TOKEN)));
    expect(dir).not.toContain(TOKEN.slice(-6));
    expect(defaultSpoolDir(TOKEN, { LAMBDA_TASK_ROOT: '/var/task' })).toBe(
      join(tmpdir(), 'optimizely-mixpanel', projectFingerprint(TOKEN)),
    );
    expect(defaultSpoolDir(TOKEN, { OPTIMIZELY_MIXPANEL_SPOOL_DIR: '/custom' })).toBe('/custom');
    expect(defaultSpoolDir(TOKEN, { OPTIMIZELY_MIXPANEL_SPOOL_DIR: 'off' })).toBeUndefined();
  });
});
