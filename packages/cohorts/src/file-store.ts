import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { applyRequest, type SyncSteps } from './sync.js';
import type { ApplyResult, CohortInfo, CohortRequest, CohortStore } from './types.js';

const FORMAT = 'optimizely-mixpanel-cohorts';
/** Sessions remembered per cohort, so re-sent pages of an applied sync are recognised. */
const DONE_KEPT = 20;
/** Pages of a sync that never completed are dropped after Mixpanel's 3-day diff window. */
const STAGING_TTL_MS = 3 * 24 * 3600 * 1000;

interface StoredCohort {
  name: string;
  version: number;
  members: string[];
}
interface FileState {
  format: typeof FORMAT;
  formatVersion: 1;
  cohorts: Record<string, StoredCohort>;
  done: Record<string, string[]>;
}

/** Options of {@link FileCohortStore}. */
export interface FileCohortStoreOptions {
  /** How often a reading process looks for a new version of the file (ms, default 500). */
  pollIntervalMs?: number;
}

function emptyState(): FileState {
  return { format: FORMAT, formatVersion: 1, cohorts: {}, done: {} };
}

/**
 * The embedded store: one JSON file, replaced atomically (written beside it,
 * flushed, renamed), so a crash leaves the old or the new file and a restart
 * keeps every cohort. Pages of a sync in progress wait beside it, one small
 * file each, in `<file>.staging/`, and survive a restart too. One process writes
 * (the receiver); any number of processes on the machine read it and notice a
 * new version by polling its metadata.
 */
export class FileCohortStore implements CohortStore, SyncSteps {
  private state: FileState = emptyState();
  private signature = '';
  private loading: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly pollIntervalMs: number;
  private lastSweep = 0;

  constructor(
    readonly path: string,
    options: FileCohortStoreOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  async apply(request: CohortRequest): Promise<ApplyResult> {
    await this.load();
    return applyRequest(this, request);
  }

  async cohorts(): Promise<CohortInfo[]> {
    await this.load();
    return Object.entries(this.state.cohorts).map(([id, c]) => ({
      id,
      name: c.name,
      version: c.version,
      count: c.members.length,
    }));
  }

  async members(cohortId: string): Promise<string[]> {
    await this.load();
    return this.state.cohorts[cohortId]?.members.slice() ?? [];
  }

  snapshotSync(): Array<CohortInfo & { members: string[] }> {
    try {
      const s = statSync(this.path);
      const signature = `${s.ino}:${s.size}:${s.mtimeMs}`;
      if (signature !== this.signature) {
        this.state = this.parse(readFileSync(this.path, 'utf8'));
        this.signature = signature;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return Object.entries(this.state.cohorts).map(([id, c]) => ({
      id,
      name: c.name,
      version: c.version,
      count: c.members.length,
      members: c.members.slice(),
    }));
  }

  watch(onChange: () => void): () => void {
    let last = this.signature;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.stat()
        .then((signature) => {
          if (signature !== last) {
            last = signature;
            onChange();
          }
        })
        .catch(() => {})
        .finally(() => {
          busy = false;
        });
    }, this.pollIntervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  async close(): Promise<void> {
    await this.writing;
  }

  // --- SyncSteps ---

  async isDone(cohortId: string, sessionId: string): Promise<boolean> {
    return this.state.done[cohortId]?.includes(sessionId) ?? false;
  }

  async stagePage(request: CohortRequest & { sessionId: string }): Promise<number[]> {
    // Pages wait in small files of their own: a page costs one small write, not a rewrite of every cohort.
    const dir = this.sessionDir(request.cohortId, request.sessionId);
    await fs.mkdir(dir, { recursive: true });
    await writeAtomically(join(dir, `${request.page}.json`), JSON.stringify(request.members));
    await this.dropStale(Date.now());
    return (await fs.readdir(dir)).filter((f) => /^\d+\.json$/.test(f)).map((f) => Number.parseInt(f, 10));
  }

  async stagedMembers(cohortId: string, sessionId: string): Promise<string[]> {
    const dir = this.sessionDir(cohortId, sessionId);
    const members = new Set<string>();
    for (const file of await fs.readdir(dir)) {
      if (!/^\d+\.json$/.test(file)) continue;
      for (const m of JSON.parse(await fs.readFile(join(dir, file), 'utf8')) as string[]) members.add(m);
    }
    return [...members];
  }

  async replace(cohortId: string, name: string | undefined, members: string[], sessionId: string | undefined) {
    const previous = this.state.cohorts[cohortId];
    this.state.cohorts[cohortId] = {
      name: name ?? previous?.name ?? cohortId,
      version: (previous?.version ?? 0) + 1,
      members: [...new Set(members)],
    };
    if (sessionId !== undefined) {
      this.state.done[cohortId] ??= [];
      const done = this.state.done[cohortId] as string[];
      done.push(sessionId);
      if (done.length > DONE_KEPT) done.splice(0, done.length - DONE_KEPT);
    }
    await this.persist();
    // Every sync of this cohort still waiting is older than the one just applied.
    await fs.rm(join(this.stagingDir, fileName(cohortId)), { recursive: true, force: true });
    return this.state.cohorts[cohortId].members.length;
  }

  async change(cohortId: string, name: string | undefined, members: string[], add: boolean): Promise<number> {
    const previous = this.state.cohorts[cohortId];
    const set = new Set(previous?.members);
    const before = set.size;
    let changed = !previous || (name !== undefined && name !== previous.name);
    if (add) for (const m of members) set.add(m);
    else for (const m of members) set.delete(m);
    changed ||= set.size !== before;
    if (!changed) return before;
    this.state.cohorts[cohortId] = {
      name: name ?? previous?.name ?? cohortId,
      version: (previous?.version ?? 0) + 1,
      members: [...set],
    };
    await this.persist();
    return set.size;
  }

  // --- file handling ---

  private parse(text: string): FileState {
    const parsed = JSON.parse(text) as FileState;
    if (parsed?.format !== FORMAT) throw new Error(`${this.path} is not a cohort store file`);
    return { ...emptyState(), ...parsed };
  }

  private get stagingDir(): string {
    return `${this.path}.staging`;
  }

  private sessionDir(cohortId: string, sessionId: string): string {
    return join(this.stagingDir, fileName(cohortId), fileName(sessionId));
  }

  /** Drops pages of syncs that never completed, after Mixpanel's 3-day window (checked once an hour). */
  private async dropStale(now: number): Promise<void> {
    if (now - this.lastSweep < 3600_000) return;
    this.lastSweep = now;
    for (const cohort of await fs.readdir(this.stagingDir).catch(() => [] as string[])) {
      for (const session of await fs.readdir(join(this.stagingDir, cohort)).catch(() => [] as string[])) {
        const dir = join(this.stagingDir, cohort, session);
        const stat = await fs.stat(dir).catch(() => undefined);
        if (stat && now - stat.mtimeMs > STAGING_TTL_MS) await fs.rm(dir, { recursive: true, force: true });
      }
    }
  }

  private async stat(): Promise<string> {
    try {
      const s = await fs.stat(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw error;
    }
  }

  /** Reads the file again when it changed since it was last read or written. */
  private load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const signature = await this.stat();
        if (signature === this.signature) return;
        if (signature === 'missing') {
          this.state = emptyState();
        } else {
          this.state = this.parse(await fs.readFile(this.path, 'utf8'));
        }
        this.signature = signature;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Writes the whole state atomically; writes are serialized, each one carries every change before it. */
  private persist(): Promise<void> {
    const text = JSON.stringify(this.state);
    const write = this.writing.then(async () => {
      await fs.mkdir(dirname(this.path), { recursive: true });
      await writeAtomically(this.path, text);
      this.signature = await this.stat();
    });
    this.writing = write.catch(() => {
      // The file still holds the previous state: the next call reads it again instead of trusting memory.
      this.signature = '';
    });
    return write;
  }
}

/** A cohort or session id as one safe file name. */
function fileName(id: string): string {
  return encodeURIComponent(id).replace(/\./g, '%2E');
}

/** Writes beside the target, flushes, renames over it, and flushes the directory entry. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
  const dirHandle = await fs.open(dir, 'r').catch(() => undefined);
  await dirHandle?.sync().catch(() => {});
  await dirHandle?.close();
}
