import type { DiagLogger } from '@opentelemetry/api';
import { defaultSpoolDir, projectFingerprint, Spool, type SpoolDropReason, type SpoolRecord } from './spool.js';
import type { Endpoint } from './transport.js';
import type { DropReason, MixpanelExporterConfig } from './types.js';

/** A record as queued: its JSON (without the token) and its number in its queue. */
export interface SpoolableRecord {
  json: string;
  seq: number;
}

/** The part of a record queue the spool works with. */
export interface SpoolableQueue {
  readonly endpoint: Endpoint;
}

/** Where records leaving for the spool end: written (`spooled`) or refused with a reason. */
export type SpoolOutcome = 'spooled' | DropReason;

/** Records that left memory for the spool, or could not. */
export interface PersistResult {
  /** Records written, in-flight copies included. */
  spooled: number;
  /** Records that could not be written, by reason. */
  dropped: Partial<Record<DropReason, number>>;
  /** The spool folder, when there is one. */
  dir: string | undefined;
}

/** Records waiting to be written: at most this many, then they end as without a spool. */
const MAX_BUFFER = 50_000;
/** Gathered for a moment: an outage at hundreds of records a second makes a few files, not hundreds. */
const GATHER_MS = 100;

interface Buffered<Q> {
  q: Q;
  record: SpoolableRecord;
  reason: DropReason;
}

/**
 * Connects an exporter's queues to its {@link Spool}: what the queues cannot
 * deliver now (overflow, shutdown past its deadline, retries exhausted) is
 * written to disk instead of dropped, and loaded back when there is room.
 * Every record it takes is settled through `settle`, once.
 */
export class SpoolLink<Q extends SpoolableQueue> {
  private buffer: Array<Buffered<Q>> = [];
  /** Taken from the buffer, being written. */
  private inWrite: Array<Buffered<Q>> = [];
  private timer: NodeJS.Timeout | undefined;
  /** A write loop is running: it takes what is offered meanwhile. */
  private writing = false;

  constructor(
    readonly spool: Spool,
    private readonly settle: (q: Q, count: number, outcome: SpoolOutcome) => void,
  ) {}

  /**
   * Takes records that cannot be delivered now; they are written soon, off
   * the caller's path (decide() must stay fast). Returns the records it could
   * not take (the buffer is full or the folder unusable): the caller drops them.
   */
  offer(q: Q, records: readonly SpoolableRecord[], reason: DropReason): readonly SpoolableRecord[] {
    if (!this.spool.usable) return records;
    const room = Math.max(0, MAX_BUFFER - this.buffer.length);
    for (const record of records.slice(0, room)) this.buffer.push({ q, record, reason });
    if (!this.writing) this.timer ??= setTimeout(() => void this.write(), GATHER_MS);
    return records.slice(room);
  }

  /** The number of the oldest record of `q` waiting to be written, or Infinity. */
  oldestPending(q: Q): number {
    let oldest = Infinity;
    for (const list of [this.inWrite, this.buffer]) {
      for (const item of list) if (item.q === q && item.record.seq < oldest) oldest = item.record.seq;
    }
    return oldest;
  }

  /**
   * For `exit` listeners and the end of a Lambda invocation: writes the
   * buffer and the given queued records synchronously (settling them), and
   * copies of the records in flight (settled when their request ends; if it
   * succeeds, Mixpanel's dedup drops the replayed copy). Then removes the
   * claimed files whose records are now either settled or written again.
   */
  persistSync(
    queued: ReadonlyArray<{ q: Q; records: readonly SpoolableRecord[] }>,
    inFlight: ReadonlyArray<{ q: Q; records: readonly SpoolableRecord[] }>,
  ): PersistResult {
    const out: PersistResult = { spooled: 0, dropped: {}, dir: this.spool.dir };
    const buffered = [...this.inWrite, ...this.buffer];
    this.buffer = [];
    this.inWrite = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    const byQueue = new Map<Q, SpoolableRecord[]>();
    for (const { q, record } of buffered) byQueue.set(q, [...(byQueue.get(q) ?? []), record]);
    for (const { q, records } of queued) byQueue.set(q, [...(byQueue.get(q) ?? []), ...records]);
    for (const [q, records] of byQueue) {
      const result = this.spool.appendSync(records.map((r) => ({ endpoint: q.endpoint, json: r.json })));
      this.settleWrite(q, records.length, result.written, result.dropped, 'shutdown', out);
    }
    const copies: SpoolRecord[] = inFlight.flatMap(({ q, records }) =>
      records.map((r) => ({ endpoint: q.endpoint, json: r.json })),
    );
    if (copies.length > 0) {
      const result = this.spool.appendSync(copies);
      out.spooled += result.written;
      for (const [reason, n] of Object.entries(result.dropped) as Array<[SpoolDropReason, number]>) {
        const r: DropReason = reason === 'spool_error' ? 'shutdown' : reason;
        out.dropped[r] = (out.dropped[r] ?? 0) + n;
      }
    }
    this.spool.releaseHeldSync();
    return out;
  }

  /**
   * Claims spooled files while the queues hold fewer than `room` records, and
   * hands each file's records to `load` with the claim's release. Returns how
   * many records were loaded.
   */
  replay(pending: () => number, room: number, load: (records: SpoolRecord[], release: () => void) => void): number {
    let loaded = 0;
    while (pending() < room) {
      const claim = this.spool.claim();
      if (!claim) break;
      loaded += claim.records.length;
      load(claim.records, claim.release);
    }
    return loaded;
  }

  private async write(): Promise<void> {
    this.timer = undefined;
    this.writing = true;
    try {
      await this.writeAll();
    } finally {
      this.writing = false;
    }
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const taken = this.buffer;
      this.buffer = [];
      this.inWrite = taken;
      const byQueue = new Map<Q, Array<Buffered<Q>>>();
      for (const item of taken) byQueue.set(item.q, [...(byQueue.get(item.q) ?? []), item]);
      const results = [];
      for (const [q, items] of byQueue) {
        const result = await this.spool.append(items.map((i) => ({ endpoint: q.endpoint, json: i.record.json })));
        results.push({ q, items, result });
      }
      // persistSync (at exit) may have taken them meanwhile: then they were settled there.
      if (this.inWrite !== taken) continue;
      this.inWrite = [];
      for (const { q, items, result } of results) {
        // Each record's own reason if the folder failed: it ends as it would have without a spool.
        this.settleWrite(q, items.length, result.written, result.dropped, items[0]?.reason ?? 'queue_full');
      }
    }
  }

  private settleWrite(
    q: Q,
    total: number,
    written: number,
    dropped: Partial<Record<SpoolDropReason, number>>,
    fallback: DropReason,
    out?: PersistResult,
  ): void {
    this.settle(q, written, 'spooled');
    let accounted = written;
    for (const [reason, n] of Object.entries(dropped) as Array<[SpoolDropReason, number]>) {
      // An unusable folder: the records end as they would have without a spool.
      const r: DropReason = reason === 'spool_error' ? fallback : reason;
      this.settle(q, n, r);
      accounted += n;
      if (out) out.dropped[r] = (out.dropped[r] ?? 0) + n;
    }
    if (accounted < total) {
      this.settle(q, total - accounted, fallback);
      if (out) out.dropped[fallback] = (out.dropped[fallback] ?? 0) + total - accounted;
    }
    if (out) out.spooled += written;
  }
}

/** The exporter's spool, from its config and the environment; undefined when off. */
export function openSpoolLink<Q extends SpoolableQueue>(
  config: MixpanelExporterConfig,
  log: DiagLogger,
  settle: (q: Q, count: number, outcome: SpoolOutcome) => void,
): SpoolLink<Q> | undefined {
  if (config.spool === false) return undefined;
  const dir = config.spool?.dir ?? defaultSpoolDir(config.token);
  if (!dir) return undefined;
  const spool = new Spool(
    { dir, project: projectFingerprint(config.token), maxBytes: config.spool?.maxBytes },
    (message) => log.warn(message),
  );
  return new SpoolLink(spool, settle);
}
