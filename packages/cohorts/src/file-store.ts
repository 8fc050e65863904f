import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
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
interface StoredSession {
  totalPages: number;
  updatedAt: number;
  pages: Record<string, string[]>;
}
interface FileState {
  format: typeof FORMAT;
  formatVersion: 1;
  cohorts: Record<string, StoredCohort>;
  staging: Record<string, Record<string, StoredSession>>;
  done: Record<string, string[]>;
}

/** Options of {@link FileCohortStore}. */
export interface FileCohortStoreOptions {
  /** How often a reading process looks for a new version of the file (ms, default 500). */
  pollIntervalMs?: number;
}

function emptyState(): FileState {
  return { format: FORMAT, formatVersion: 1, cohorts: {}, staging: {}, done: {} };
}

/**
 * The embedded store: one JSON file, replaced atomically (written beside it,
 * flushed, renamed), so a crash leaves the old or the new file and a restart
 * keeps every cohort and every page of a sync in progress. One process writes
 * (the receiver); any number of processes on the machine read it and notice a
 * new version by polling its metadata.
 */
export class FileCohortStore implements CohortStore, SyncSteps {
  private state: FileState = emptyState();
  private signature = '';
  private loading: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly pollIntervalMs: number;

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
    const now = Date.now();
    this.state.staging[request.cohortId] ??= {};
    const byCohort = this.state.staging[request.cohortId] as Record<string, StoredSession>;
    byCohort[request.sessionId] ??= { totalPages: request.totalPages, updatedAt: now, pages: {} };
    const session = byCohort[request.sessionId] as StoredSession;
    session.totalPages = request.totalPages;
    session.updatedAt = now;
    session.pages[String(request.page)] = request.members;
    this.dropStale(now);
    await this.persist();
    return Object.keys(session.pages).map(Number);
  }

  async stagedMembers(cohortId: string, sessionId: string): Promise<string[]> {
    const pages = this.state.staging[cohortId]?.[sessionId]?.pages ?? {};
    const members = new Set<string>();
    for (const page of Object.values(pages)) for (const m of page) members.add(m);
    return [...members];
  }

  async replace(cohortId: string, name: string | undefined, members: string[], sessionId: string | undefined) {
    const previous = this.state.cohorts[cohortId];
    this.state.cohorts[cohortId] = {
      name: name ?? previous?.name ?? cohortId,
      version: (previous?.version ?? 0) + 1,
      members: [...new Set(members)],
    };
    delete this.state.staging[cohortId];
    if (sessionId !== undefined) {
      this.state.done[cohortId] ??= [];
      const done = this.state.done[cohortId] as string[];
      done.push(sessionId);
      if (done.length > DONE_KEPT) done.splice(0, done.length - DONE_KEPT);
    }
    await this.persist();
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

  private dropStale(now: number): void {
    for (const [cohortId, sessions] of Object.entries(this.state.staging)) {
      for (const [sessionId, session] of Object.entries(sessions)) {
        if (now - session.updatedAt > STAGING_TTL_MS) delete sessions[sessionId];
      }
      if (Object.keys(sessions).length === 0) delete this.state.staging[cohortId];
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
          const parsed = JSON.parse(await fs.readFile(this.path, 'utf8')) as FileState;
          if (parsed?.format !== FORMAT) throw new Error(`${this.path} is not a cohort store file`);
          this.state = { ...emptyState(), ...parsed };
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
      const dir = dirname(this.path);
      await fs.mkdir(dir, { recursive: true });
      const tmp = join(dir, `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      const handle = await fs.open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await fs.rename(tmp, this.path);
      } catch (error) {
        await fs.rm(tmp, { force: true });
        throw error;
      }
      // The rename is durable once the directory entry is flushed.
      const dirHandle = await fs.open(dir, 'r').catch(() => undefined);
      await dirHandle?.sync().catch(() => {});
      await dirHandle?.close();
      this.signature = await this.stat();
    });
    this.writing = write.catch(() => {
      // The file still holds the previous state: the next call reads it again instead of trusting memory.
      this.signature = '';
    });
    return write;
  }
}
