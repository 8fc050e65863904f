import type { DiagLogger } from '@opentelemetry/api';
import { defaultSpoolDir, projectFingerprint, Spool, type SpoolDropReason, type SpoolRecord } from './spool.js';
import type { Endpoint } from './transport.js';
import type { DropReason, MixpanelExporterConfig } from './types.js';

/** The part of a record queue the spool works with. */
export interface SpoolableQueue {
  readonly endpoint: Endpoint;
  items: Array<{ value: object }>;
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

/** Records waiting for an overflow write: at most this many, then they are dropped as `queue_full`. */
const MAX_OVERFLOW_BUFFER = 20_000;
const OVERFLOW_GATHER_MS = 100;

/**
 * Connects an exporter's queues to its {@link Spool}: what the queues cannot
 * keep (overflow, shutdown past its deadline, retries exhausted) is written to
 * disk instead of dropped; what the spool holds is loaded back when there is
 * room. Every record it takes is settled through `settle`, once.
 */
export class SpoolLink<Q extends SpoolableQueue> {
  private overflow: Array<{ q: Q; value: object; seq: number }> = [];
  /** Taken from the buffer, being written. */
  private inWrite: Array<{ q: Q; value: object; seq: number }> = [];
  private writing = false;

  constructor(
    readonly spool: Spool,
    private readonly settle: (q: Q, count: number, outcome: SpoolOutcome) => void,
  ) {}

  /**
   * Takes a record its queue has no room for; it is written soon, off the
   * caller's path (decide() must stay fast). False when even the buffer is
   * full or the spool cannot be used.
   */
  offer(q: Q, value: object, seq: number): boolean {
    if (this.overflow.length >= MAX_OVERFLOW_BUFFER || !this.spool.usable) return false;
    this.overflow.push({ q, value, seq });
    if (!this.writing) {
      this.writing = true;
      // Gathered for a moment: an outage at hundreds of records a second makes a few files, not hundreds.
      setTimeout(() => void this.writeOverflow(), OVERFLOW_GATHER_MS);
    }
    return true;
  }

  /** The number of the oldest record of `q` waiting to be written, or Infinity. */
  oldestPending(q: Q): number {
    let oldest = Infinity;
    for (const list of [this.inWrite, this.overflow]) {
      for (const item of list) if (item.q === q && item.seq < oldest) oldest = item.seq;
    }
    return oldest;
  }

  /**
   * Writes records that cannot be delivered now, synchronously, and settles
   * them: `spooled`, or dropped with the spool's reason, or with `reason` when
   * the spool cannot be used (then it behaves as without a spool).
   */
  spill(q: Q, values: readonly object[], reason: DropReason): void {
    if (values.length === 0) return;
    const result = this.spool.appendSync(values.map((value) => ({ endpoint: q.endpoint, value })));
    this.settleWrite(q, values.length, result.written, result.dropped, reason);
  }

  /**
   * For `exit` listeners and the end of a Lambda invocation: writes the
   * overflow buffer and every queued record synchronously (settling them), and
   * copies of the records in flight (settled when their request ends; if it
   * succeeds, Mixpanel's dedup drops the replayed copy). Then removes the
   * claimed files whose records are now either settled or written again.
   */
  persistSync(queues: readonly Q[], inFlight: ReadonlyArray<{ q: Q; values: readonly object[] }>): PersistResult {
    const out: PersistResult = { spooled: 0, dropped: {}, dir: this.spool.dir };
    const overflow = [...this.inWrite, ...this.overflow];
    this.overflow = [];
    this.inWrite = [];
    for (const q of queues) {
      const values = [...overflow.filter((o) => o.q === q).map((o) => o.value), ...q.items.map((i) => i.value)];
      q.items = [];
      if (values.length === 0) continue;
      const result = this.spool.appendSync(values.map((value) => ({ endpoint: q.endpoint, value })));
      this.settleWrite(q, values.length, result.written, result.dropped, 'shutdown', out);
    }
    const copies: SpoolRecord[] = inFlight.flatMap(({ q, values }) =>
      values.map((value) => ({ endpoint: q.endpoint, value })),
    );
    if (copies.length > 0) {
      const result = this.spool.appendSync(copies);
      out.spooled += result.written;
      for (const [reason, n] of Object.entries(result.dropped)) {
        const r = reason === 'spool_error' ? 'shutdown' : (reason as DropReason);
        out.dropped[r] = (out.dropped[r] ?? 0) + (n ?? 0);
      }
    }
    this.spool.releaseHeldSync();
    return out;
  }

  /**
   * Claims spooled files while the queues hold fewer than `room` records, and
   * hands each file's records to `load`, with the claim's release.
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

  private async writeOverflow(): Promise<void> {
    try {
      while (this.overflow.length > 0) {
        this.inWrite = this.overflow;
        this.overflow = [];
        const byQueue = new Map<Q, object[]>();
        for (const { q, value } of this.inWrite) {
          const list = byQueue.get(q) ?? [];
          list.push(value);
          byQueue.set(q, list);
        }
        const results = [];
        for (const [q, values] of byQueue) {
          results.push({
            q,
            values,
            result: await this.spool.append(values.map((value) => ({ endpoint: q.endpoint, value }))),
          });
        }
        // persistSync (at exit) may have taken them meanwhile: then they are settled there.
        if (this.inWrite.length === 0) continue;
        this.inWrite = [];
        for (const { q, values, result } of results) {
          this.settleWrite(q, values.length, result.written, result.dropped, 'queue_full');
        }
      }
    } finally {
      this.writing = false;
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
    if (accounted < total) this.settle(q, total - accounted, fallback);
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
