import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from './transport.js';

/**
 * A record as the spool keeps it: the JSON the exporter queued, never the
 * token (it is added when a batch is built for sending).
 */
export interface SpoolRecord {
  endpoint: Endpoint;
  /** A JSON object: an event (`{"event":…,"properties":{…}}`) or a profile update. */
  json: string;
}

/** Why the spool refused records. */
export type SpoolDropReason =
  /** Writing them would pass the spool's byte cap. */
  | 'spool_full'
  /** Older than the endpoint accepts (`/track`: 5 days; `/import`: 1971), or more than 1 h ahead. */
  | 'expired'
  /** The folder cannot be written (read-only, full, gone). */
  | 'spool_error';

export const SPOOL_DROP_REASONS: readonly SpoolDropReason[] = ['spool_full', 'expired', 'spool_error'];

/** Options of {@link Spool}. */
export interface SpoolOptions {
  /** Folder of the spool files, created with mode 0700. One folder per Mixpanel project. */
  dir: string;
  /** Names the project the records belong to, without revealing its token: see {@link projectFingerprint}. */
  project: string;
  /** Bytes the folder may hold. Default 256 MiB. */
  maxBytes?: number;
  /** Clock in ms. */
  now?: () => number;
}

/** What one append did, by record. */
export interface SpoolWriteResult {
  written: number;
  dropped: Partial<Record<SpoolDropReason, number>>;
  /** The file written, if any. */
  file?: string | undefined;
}

/** Records taken from one spool file. Call {@link release} once they are delivered or dropped. */
export interface SpoolClaim {
  records: SpoolRecord[];
  /** Removes the claimed file. */
  release(): void;
}

/** Counts since the spool was opened. */
export interface SpoolStats {
  /** Records written to the folder. */
  written: number;
  /** Records read back from it. */
  replayed: number;
  /** Records refused or thrown away, by reason. */
  dropped: Record<SpoolDropReason, number>;
  /** Files moved to `set-aside/` because they were torn or not ours. */
  setAside: number;
}

const FORMAT = 'optimizely-mixpanel-spool';
const VERSION = 1;
const SUFFIX = '.ndjson';
const CLAIMED = 'claimed';
const SET_ASIDE = 'set-aside';
const DAY_MS = 24 * 60 * 60 * 1000;
/** `/track` refuses events older than 5 days; an hour is kept for the trip. */
export const TRACK_MAX_AGE_MS = 5 * DAY_MS - 60 * 60 * 1000;
/** `/import` takes events back to 1971 and at most 1 h ahead. */
const IMPORT_MIN_TIME_MS = Date.UTC(1971, 0, 1);
const MAX_FUTURE_MS = 60 * 60 * 1000;
/** A temporary file this old, of a process that is gone, was torn by a crash. */
const STALE_TMP_MS = 60 * 1000;
const ENDPOINTS = new Set<string>(['track', 'import', 'engage']);
/** An event's `time` property, read without parsing the record (core writes it as a number). */
const TIME = /"time":(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[,}]/;

/**
 * Names a project in spool headers and folder names: a truncated salted
 * SHA-256 of the token, from which the token cannot be recovered.
 */
export function projectFingerprint(token: string): string {
  return createHash('sha256').update(`optimizely-mixpanel spool\0${token}`).digest('hex').slice(0, 16);
}

/**
 * The spool folder for `token` when none is configured: under
 * `$XDG_STATE_HOME` (else `~/.local/state`), or the temp folder when there is
 * no home (and always under AWS Lambda, where only `/tmp` is writable).
 * `OPTIMIZELY_MIXPANEL_SPOOL_DIR` overrides; `off` (or `false`, `0`) disables (returns undefined).
 */
export function defaultSpoolDir(token: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env.OPTIMIZELY_MIXPANEL_SPOOL_DIR?.trim();
  if (configured) return ['off', 'false', '0', 'none'].includes(configured.toLowerCase()) ? undefined : configured;
  const leaf = join('optimizely-mixpanel', projectFingerprint(token));
  if (env.AWS_LAMBDA_FUNCTION_NAME || env.LAMBDA_TASK_ROOT) return join(tmpdir(), leaf);
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, leaf);
  let home = '';
  try {
    home = homedir();
  } catch {
    // No home (a system user): the temp folder.
  }
  return home && home !== '/' ? join(home, '.local', 'state', leaf) : join(tmpdir(), leaf);
}

/**
 * The time of an event in ms (Mixpanel takes seconds or ms), or undefined for
 * records that carry none (profile updates).
 */
function recordTimeMs(record: SpoolRecord): number | undefined {
  if (record.endpoint === 'engage') return undefined;
  const match = TIME.exec(record.json);
  const time = match ? Number(match[1]) : undefined;
  if (typeof time !== 'number' || !Number.isFinite(time)) return undefined;
  return time < 1e11 ? time * 1000 : time;
}

function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An embedded, crash-safe spool of records that could not be delivered now,
 * replayed unchanged (same `time`, same `$insert_id`) by the next exporter of
 * the same project, in this process or another.
 *
 * - Each append is one file, written then renamed into place (0600, in a 0700
 *   folder): a process crash leaves either the whole file or none (the
 *   background writes are also fsynced; those at exit are not, for speed).
 * - Files are claimed by renaming them into `claimed/`: of several processes
 *   sharing the folder, exactly one gets each file. A claim whose process is
 *   gone is put back.
 * - A torn or foreign file never blocks the rest: it is moved to `set-aside/`
 *   and counted.
 * - Bounded by bytes, and by the age Mixpanel accepts; the rest is counted.
 *
 * All methods are synchronous (usable in a process `exit` listener) except
 * {@link append}, and none throws: failures are counted and reported once.
 */
export class Spool {
  readonly dir: string;
  private readonly project: string;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly counts: SpoolStats = {
    written: 0,
    replayed: 0,
    dropped: { spool_full: 0, expired: 0, spool_error: 0 },
    setAside: 0,
  };
  /** Bytes in the folder, as of the last scan plus what this process wrote since. */
  private bytes = 0;
  private ready = false;
  private failure: string | undefined;
  /** Files of another project in a shared folder: left alone. */
  private readonly foreign = new Set<string>();
  private readonly held = new Set<string>();
  private sequence = 0;

  constructor(
    options: SpoolOptions,
    private readonly onFailure: (message: string) => void = () => {},
  ) {
    this.dir = options.dir;
    this.project = options.project;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  /** Whether the folder could be prepared (false after a failure was reported). */
  get usable(): boolean {
    return this.prepare();
  }

  stats(): SpoolStats {
    return { ...this.counts, dropped: { ...this.counts.dropped } };
  }

  /** Writes `records` as one file, synchronously (for `exit` listeners). */
  appendSync(records: readonly SpoolRecord[]): SpoolWriteResult {
    const result: SpoolWriteResult = { written: 0, dropped: {} };
    if (records.length === 0) return result;
    if (!this.prepare()) return this.refuse(result, 'spool_error', records.length);
    const encoded = this.encode(records, result);
    if (!encoded) return result;
    const { name, tmp } = this.names();
    try {
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        // No fsync here: this runs at exit and before a Lambda invocation completes, where a slow disk
        // must not hold the process. Rename after write keeps it whole across a process crash; after a
        // power loss a file can be torn, and is then set aside and counted.
        fs.writeSync(fd, encoded.data);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, join(this.dir, name));
    } catch (error) {
      tryUnlink(tmp);
      this.fail(`cannot write to ${this.dir}: ${(error as Error).message}`);
      return this.refuse(result, 'spool_error', encoded.count);
    }
    return this.wrote(result, encoded, name);
  }

  /** Writes `records` as one file without blocking the event loop. Never rejects. */
  async append(records: readonly SpoolRecord[]): Promise<SpoolWriteResult> {
    const result: SpoolWriteResult = { written: 0, dropped: {} };
    if (records.length === 0) return result;
    if (!this.prepare()) return this.refuse(result, 'spool_error', records.length);
    const encoded = this.encode(records, result);
    if (!encoded) return result;
    const { name, tmp } = this.names();
    // Reserved now, so that concurrent appends respect the cap together.
    this.bytes += encoded.data.length;
    try {
      const handle = await fs.promises.open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(encoded.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(tmp, join(this.dir, name));
    } catch (error) {
      this.bytes -= encoded.data.length;
      tryUnlink(tmp);
      this.fail(`cannot write to ${this.dir}: ${(error as Error).message}`);
      return this.refuse(result, 'spool_error', encoded.count);
    }
    this.bytes -= encoded.data.length;
    return this.wrote(result, encoded, name);
  }

  /**
   * Claims the oldest spooled file and returns its records, minus those now
   * too old (counted as `expired`). Torn and foreign files met on the way are
   * set aside. Undefined when nothing is left to claim.
   */
  claim(): SpoolClaim | undefined {
    if (!this.prepare()) return undefined;
    for (const name of this.readyFiles()) {
      const claimedPath = join(this.dir, CLAIMED, `${name}.${process.pid}`);
      try {
        fs.renameSync(join(this.dir, name), claimedPath);
      } catch {
        continue; // another process claimed it first
      }
      let text: string;
      try {
        text = fs.readFileSync(claimedPath, 'utf8');
      } catch {
        tryUnlink(claimedPath);
        continue;
      }
      const parsed = this.parse(text);
      if (parsed === 'foreign-project') {
        // Another project's file in a shared folder: its own exporter will replay it.
        this.foreign.add(name);
        tryRename(claimedPath, join(this.dir, name));
        continue;
      }
      if (!parsed) {
        this.setAside(claimedPath, name);
        continue;
      }
      const size = Buffer.byteLength(text);
      const records = parsed.filter((record) => this.fresh(record));
      const expired = parsed.length - records.length;
      if (expired > 0) this.counts.dropped.expired += expired;
      this.counts.replayed += records.length;
      this.held.add(claimedPath);
      let released = false;
      return {
        records,
        release: () => {
          if (released) return;
          released = true;
          this.held.delete(claimedPath);
          if (tryUnlink(claimedPath)) this.bytes = Math.max(0, this.bytes - size);
        },
      };
    }
    return undefined;
  }

  /** Whether a file is waiting to be claimed (a cheap check, no parsing). */
  hasPending(): boolean {
    return this.prepare() && this.readyFiles().length > 0;
  }

  /** Names of claimed files this process holds and has not released. */
  heldClaims(): number {
    return this.held.size;
  }

  /**
   * Removes the claimed files this process still holds: call after their
   * remaining records were written again (at exit), so they are not replayed twice.
   */
  releaseHeldSync(): void {
    for (const path of this.held) tryUnlink(path);
    this.held.clear();
  }

  private fresh(record: SpoolRecord): boolean {
    const time = recordTimeMs(record);
    if (time === undefined) return true;
    const now = this.now();
    if (time > now + MAX_FUTURE_MS) return false;
    return record.endpoint === 'track' ? now - time <= TRACK_MAX_AGE_MS : time >= IMPORT_MIN_TIME_MS;
  }

  private encode(
    records: readonly SpoolRecord[],
    result: SpoolWriteResult,
  ): { data: Buffer; count: number } | undefined {
    const lines: string[] = [];
    let bodyBytes = 0;
    let exact = false;
    let full = 0;
    let expired = 0;
    let unencodable = 0;
    const budget = this.maxBytes - this.bytes - 512; // the header's room
    for (const record of records) {
      if (!this.fresh(record)) {
        expired++;
        continue;
      }
      if (!ENDPOINTS.has(record.endpoint) || typeof record.json !== 'string' || !record.json.startsWith('{')) {
        unencodable++;
        continue;
      }
      const line = `{"e":"${record.endpoint}","r":${record.json}}`;
      // UTF-8 takes at most 3 bytes per UTF-16 unit: sizes are counted exactly only near the cap.
      if (!exact && 3 * (bodyBytes + line.length + 1) >= budget) {
        bodyBytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
        exact = true;
      }
      const size = (exact ? Buffer.byteLength(line) : line.length) + 1;
      if (exact && bodyBytes + size > budget) {
        full++;
        continue;
      }
      lines.push(line);
      bodyBytes += size;
    }
    if (expired > 0) this.refuse(result, 'expired', expired);
    if (full > 0) this.refuse(result, 'spool_full', full);
    if (unencodable > 0) this.refuse(result, 'spool_error', unencodable);
    if (lines.length === 0) return undefined;
    const body = `${lines.join('\n')}\n`;
    const header = JSON.stringify({
      format: FORMAT,
      version: VERSION,
      project: this.project,
      records: lines.length,
      bytes: Buffer.byteLength(body),
    });
    return { data: Buffer.from(`${header}\n${body}`), count: lines.length };
  }

  /** Records of a file, `foreign-project`, or undefined when torn or not a spool file. */
  private parse(text: string): SpoolRecord[] | 'foreign-project' | undefined {
    const newline = text.indexOf('\n');
    if (newline < 0) return undefined;
    let header: { format?: unknown; version?: unknown; project?: unknown; records?: unknown; bytes?: unknown };
    try {
      header = JSON.parse(text.slice(0, newline));
    } catch {
      return undefined;
    }
    if (header?.format !== FORMAT || header.version !== VERSION) return undefined;
    if (header.project !== this.project) return 'foreign-project';
    const body = text.slice(newline + 1);
    if (Buffer.byteLength(body) !== header.bytes) return undefined;
    const lines = body.split('\n');
    lines.pop(); // after the last newline
    if (lines.length !== header.records) return undefined;
    const records: SpoolRecord[] = [];
    for (const line of lines) {
      let item: { e?: unknown; r?: unknown };
      try {
        item = JSON.parse(line);
      } catch {
        return undefined;
      }
      if (typeof item?.e !== 'string' || !ENDPOINTS.has(item.e) || !item.r || typeof item.r !== 'object') {
        return undefined;
      }
      // The record exactly as written: `{"e":"<endpoint>","r":<record>}`.
      const prefix = `{"e":"${item.e}","r":`;
      if (!line.startsWith(prefix)) return undefined;
      records.push({ endpoint: item.e as Endpoint, json: line.slice(prefix.length, -1) });
    }
    return records;
  }

  /** Ready files, oldest first. Puts back claims of processes that are gone; sets torn temporary files aside. */
  private readyFiles(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const ready: string[] = [];
    for (const name of names) {
      if (name.endsWith(SUFFIX) && !name.startsWith('.')) {
        if (!this.foreign.has(name)) ready.push(name);
      } else if (name.startsWith('.tmp-')) {
        this.checkTemporary(name);
      }
    }
    this.recoverClaims(ready);
    return ready.sort();
  }

  /** A temporary file left by a process that died while writing it is torn. */
  private checkTemporary(name: string): void {
    const pid = Number(name.split('-')[2]);
    if (isProcessAlive(pid)) return;
    const path = join(this.dir, name);
    try {
      if (this.now() - fs.statSync(path).mtimeMs < STALE_TMP_MS) return;
    } catch {
      return;
    }
    this.setAside(path, name);
  }

  private recoverClaims(ready: string[]): void {
    let claimed: string[];
    try {
      claimed = fs.readdirSync(join(this.dir, CLAIMED));
    } catch {
      return;
    }
    for (const entry of claimed) {
      const dot = entry.lastIndexOf('.');
      const name = entry.slice(0, dot);
      const pid = Number(entry.slice(dot + 1));
      if (!name.endsWith(SUFFIX) || isProcessAlive(pid)) continue;
      // Its process ended before delivering: back in line (only one process wins this rename).
      if (tryRename(join(this.dir, CLAIMED, entry), join(this.dir, name))) ready.push(name);
    }
  }

  private setAside(path: string, name: string): void {
    this.counts.setAside++;
    if (!tryRename(path, join(this.dir, SET_ASIDE, `${name}.${this.now()}`))) tryUnlink(path);
    this.onFailure(`set aside an unreadable spool file (torn or not ours): ${join(this.dir, SET_ASIDE, name)}`);
  }

  private names(): { name: string; tmp: string } {
    // Sortable by time; unique across processes and within one.
    const stamp = String(this.now()).padStart(14, '0');
    const unique = `${process.pid}-${(this.sequence++).toString(36)}-${randomBytes(4).toString('hex')}`;
    const name = `${stamp}-${unique}${SUFFIX}`;
    return { name, tmp: join(this.dir, `.tmp-${stamp}-${unique}`) };
  }

  private wrote(result: SpoolWriteResult, encoded: { data: Buffer; count: number }, name: string): SpoolWriteResult {
    this.bytes += encoded.data.length;
    this.counts.written += encoded.count;
    result.written += encoded.count;
    result.file = join(this.dir, name);
    return result;
  }

  private refuse(result: SpoolWriteResult, reason: SpoolDropReason, count: number): SpoolWriteResult {
    result.dropped[reason] = (result.dropped[reason] ?? 0) + count;
    this.counts.dropped[reason] += count;
    return result;
  }

  /** Creates the folders (0700) once and measures what they hold; false once the folder proved unusable. */
  private prepare(): boolean {
    if (this.ready) return true;
    if (this.failure) return false;
    try {
      fs.mkdirSync(join(this.dir, CLAIMED), { recursive: true, mode: 0o700 });
      fs.mkdirSync(join(this.dir, SET_ASIDE), { recursive: true, mode: 0o700 });
      const stat = fs.statSync(this.dir);
      // A folder we own but others can read (made by hand, or an old umask): records carry user ids.
      if ((stat.mode & 0o077) !== 0 && typeof process.getuid === 'function' && stat.uid === process.getuid()) {
        fs.chmodSync(this.dir, 0o700);
      }
      fs.accessSync(this.dir, fs.constants.W_OK | fs.constants.R_OK);
      this.bytes = folderBytes(this.dir) + folderBytes(join(this.dir, CLAIMED));
      this.ready = true;
      return true;
    } catch (error) {
      this.fail(`cannot use ${this.dir}: ${(error as Error).message}`);
      return false;
    }
  }

  private fail(message: string): void {
    if (this.failure) return;
    this.failure = message;
    this.ready = false;
    this.onFailure(`spool unavailable, records that cannot be delivered are counted as dropped: ${message}`);
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    try {
      const stat = fs.statSync(join(dir, name));
      if (stat.isFile()) total += stat.size;
    } catch {
      // Claimed or removed meanwhile.
    }
  }
  return total;
}

function tryUnlink(path: string): boolean {
  try {
    fs.unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

function tryRename(from: string, to: string): boolean {
  try {
    fs.renameSync(from, to);
    return true;
  } catch {
    return false;
  }
}
