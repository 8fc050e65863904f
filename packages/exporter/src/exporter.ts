import { context, diag, metrics, type SpanContext, trace } from '@opentelemetry/api';
import {
  type Exposure,
  exposureJson,
  type MixpanelEvent,
  type MixpanelProfileUpdate,
  type RecordJson,
} from '@optimizely-mixpanel/core';
import { Accounting } from './accounting.js';
import { type ResolvedConfig, resolveConfig } from './config.js';
import { Delivery } from './deliver.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { hasRoom, type QueuedRecord, RecordQueue, toQueuedRecord, type UndeliverableReason } from './record-queue.js';
import { redact } from './redact.js';
import type { SpoolRecord } from './spool.js';
import { openSpoolLink, type PersistResult, type SpoolLink } from './spool-link.js';
import type { ExporterStats, MixpanelExporterConfig } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/**
 * Delivers exposures to Mixpanel from a server process: batched, bounded,
 * retried with backoff, flushable, and visible as OpenTelemetry spans and
 * metrics. Never throws from {@link export}; every record ends exported,
 * written to the spool for later (see `spool`), or counted as dropped with a reason.
 *
 * @example
 * ```ts
 * const exporter = new MixpanelExporter({ token: process.env.MIXPANEL_TOKEN!, region: 'eu' });
 * const { exposure } = pipeline.handle(notification);
 * if (exposure) exporter.export(exposure);
 * await exporter.flush(); // e.g. at the end of a Lambda handler
 * ```
 */
export class MixpanelExporter {
  private readonly config: ResolvedConfig;
  private readonly events: RecordQueue;
  private readonly profiles: RecordQueue;
  private readonly queues: RecordQueue[];
  private readonly accounting: Accounting;
  private readonly delivery: Delivery;
  private readonly interval: NodeJS.Timeout;
  private waiters: Array<{ targets: number[]; resolve: () => void }> = [];
  private closed = false;
  private shutdownPromise: Promise<ExporterStats> | undefined;
  private readonly diag = diag.createComponentLogger({ namespace: PACKAGE_NAME });
  private readonly log = new RateLimitedLog(this.diag);
  private readonly spool: SpoolLink<RecordQueue> | undefined;
  /** flush() calls running: they load the spool themselves, round by round. */
  private flushes = 0;

  /** @throws TypeError on an invalid configuration (missing token, plain HTTP to a remote host, ...). */
  constructor(config: MixpanelExporterConfig) {
    this.config = resolveConfig(config);
    this.events = new RecordQueue(this.config.eventEndpoint, 'event');
    this.profiles = new RecordQueue('engage', 'profile');
    this.queues = [this.events, this.profiles];
    const meter = (config.meterProvider ?? metrics.getMeterProvider()).getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    this.accounting = new Accounting(meter, this.queues, this.log, () => this.checkWaiters());
    this.delivery = new Delivery({
      token: this.config.token,
      transport: this.config.transport,
      tracer: (config.tracerProvider ?? trace.getTracerProvider()).getTracer(PACKAGE_NAME, PACKAGE_VERSION),
      retry: this.config.retry,
      requestTimeoutMs: this.config.requestTimeoutMs,
      limits: this.config,
      accounting: this.accounting,
      log: this.log,
      redact: (text) => this.redact(text),
      undeliverable: (q, records, reason) => this.undeliverable(q, records, reason),
      flushing: () => this.waiters.length > 0,
      batchDone: () => this.checkWaiters(),
    });
    this.spool = openSpoolLink<RecordQueue>(config, this.diag, (q, count, outcome) =>
      outcome === 'spooled' ? this.accounting.spooled(q, count) : this.accounting.settle(q, count, outcome),
    );
    // Never keeps the process alive on its own; flush() and shutdown() hold it while they wait.
    this.interval = setInterval(() => {
      this.replay(false);
      this.drainAll();
    }, this.config.flushIntervalMs);
    this.interval.unref();
    // What earlier processes left in the spool goes out first, without keeping this one alive.
    if (this.spool) setTimeout(() => this.replay(false), 0).unref();
  }

  /**
   * Queues an exposure's events and profile update. The span active now (or
   * `options.link`) is linked from the export span that carries them. Returns
   * false when anything was dropped (queue full or shut down, and no spool
   * took it), which is counted.
   */
  export(exposure: Exposure, options: { link?: SpanContext } = {}): boolean {
    try {
      const link = options.link ?? activeSpanContext();
      let ok = true;
      // The pipeline's own records come as JSON text; records a hook touched are serialized here.
      const json = exposureJson(exposure);
      if (json) {
        for (const event of json.events) ok = this.enqueueJson(this.events, event, link) && ok;
        return this.enqueueJson(this.profiles, json.profileUpdate, link) && ok;
      }
      for (const event of exposure.events) ok = this.enqueueEvent(event, link) && ok;
      return this.enqueueProfileUpdate(exposure.profileUpdate, link) && ok;
    } catch (error) {
      this.log.error('export', `export failed: ${this.redact(String(error))}`);
      return false;
    }
  }

  /** Queues one event (serialized now, to be measured); the token is added when its batch is built. */
  enqueueEvent(event: MixpanelEvent, link?: SpanContext): boolean {
    return this.enqueue(this.events, event, link);
  }

  /** Queues one profile update (serialized now, to be measured); the token is added when its batch is built. */
  enqueueProfileUpdate(update: MixpanelProfileUpdate, link?: SpanContext): boolean {
    return this.enqueue(this.profiles, update, link);
  }

  /** Counts a decision the caller did not export (`duplicate`, `no_rule`, ...), so none is lost silently. */
  countSkipped(reason: string): void {
    this.accounting.skipped(reason);
  }

  /** Counts so far. */
  stats(): ExporterStats {
    return this.accounting.stats();
  }

  /**
   * Sends everything queued so far; resolves when each of those records is
   * delivered, definitively dropped (retries included) or written to the
   * spool. While delivery makes progress it also sends what the spool holds.
   * Keeps the process alive while it waits.
   */
  async flush(): Promise<ExporterStats> {
    this.flushes++;
    try {
      for (;;) {
        const exported = this.accounting.counts.exported;
        this.replay(true);
        await this.flushQueued();
        // Another round only while the spool has more and Mixpanel takes records: never a loop in an outage.
        if (!this.spool || this.closed || this.accounting.counts.exported === exported) break;
        if (!this.spool.spool.hasPending()) break;
      }
    } finally {
      this.flushes--;
    }
    return this.stats();
  }

  private flushQueued(): Promise<void> {
    const targets = this.queues.map((q) => q.enqueued);
    const done = new Promise<void>((resolve) => this.waiters.push({ targets, resolve }));
    this.delivery.holdOpen();
    this.drainAll();
    this.checkWaiters();
    return done;
  }

  /**
   * Writes every record not yet delivered to the spool, synchronously: for a
   * process `exit` listener (only synchronous work runs there) and the end of
   * a Lambda invocation. Records in flight are written as copies. Without a
   * spool nothing is written, and `dropped.shutdown` counts what is pending.
   * Never throws.
   */
  persistSync(): PersistResult {
    try {
      if (!this.spool) {
        const pending = this.stats().pending;
        return { spooled: 0, dropped: pending > 0 ? { shutdown: pending } : {}, dir: undefined };
      }
      const queued = this.queues.map((q) => {
        const records = q.items;
        q.items = [];
        q.release(records);
        return { q, records };
      });
      const inFlight = this.queues.flatMap((q) => (q.inFlight ? [{ q, records: q.inFlight }] : []));
      return this.spool.persistSync(queued, inFlight);
    } catch (error) {
      this.log.error('persist', `could not write pending records to the spool: ${this.redact(String(error))}`);
      return { spooled: 0, dropped: { shutdown: this.stats().pending }, dir: this.spool?.spool.dir };
    }
  }

  /** The spool folder in use, if any. */
  get spoolDir(): string | undefined {
    return this.spool?.spool.dir;
  }

  /**
   * Stops accepting records and flushes within `timeoutMs` (default 5000);
   * what is still queued or in flight at the deadline is dropped and counted
   * as `shutdown`. Idempotent.
   */
  shutdown(options: { timeoutMs?: number } = {}): Promise<ExporterStats> {
    this.shutdownPromise ??= this.doShutdown(options.timeoutMs ?? 5000);
    return this.shutdownPromise;
  }

  private async doShutdown(timeoutMs: number): Promise<ExporterStats> {
    this.closed = true;
    clearInterval(this.interval);
    const flushed = this.flush();
    let deadline: NodeJS.Timeout | undefined;
    const expired = await Promise.race([
      flushed.then(() => false),
      new Promise<boolean>((resolve) => {
        deadline = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(deadline);
    if (expired) {
      this.delivery.abort();
      for (const q of this.queues) {
        const items = q.items;
        q.items = [];
        q.release(items);
        this.undeliverable(q, items, 'shutdown');
      }
      await flushed;
    }
    // Every reason, events and profile updates alike, whatever the rate limit let through before.
    const report = this.accounting.dropReport();
    if (report) this.diag.warn(`shut down: ${report}`);
    return this.stats();
  }

  private enqueue(q: RecordQueue, value: object, link: SpanContext | undefined): boolean {
    q.enqueued++;
    let record: QueuedRecord;
    try {
      // Measured now, so the byte bound holds whatever the records weigh.
      record = toQueuedRecord(q, value, link);
    } catch {
      // A BigInt or a cycle (e.g. added by a hook): counted, never queued.
      this.accounting.settle(q, 1, 'unserializable');
      return false;
    }
    return this.admit(q, record);
  }

  /** Queues a record already serialized by {@link exposureJson}. */
  private enqueueJson(q: RecordQueue, record: RecordJson, link: SpanContext | undefined): boolean {
    q.enqueued++;
    return this.admit(q, { json: record.json, bytes: record.bytes, link, seq: q.enqueued });
  }

  private admit(q: RecordQueue, record: QueuedRecord): boolean {
    if (this.closed) return this.undeliverable(q, [record], 'shutdown');
    if (!hasRoom(this.queues, record, this.config)) return this.undeliverable(q, [record], 'queue_full');
    q.push(record);
    this.accounting.queued(q);
    if (q.items.length >= this.config.maxBatchSize) this.drainSoon(q);
    return true;
  }

  /**
   * Sends a full batch once the caller's synchronous work is done: building and
   * writing a request of up to 2000 records takes milliseconds, which must not
   * land inside the one `decide()` that filled the batch.
   */
  private drainSoon(q: RecordQueue): void {
    if (q.sending || q.drainQueued) return;
    q.drainQueued = true;
    queueMicrotask(() => {
      q.drainQueued = false;
      void this.delivery.drain(q);
    });
  }

  /**
   * The one way out for records that cannot be delivered now (queue full,
   * shut down, retries exhausted): to the spool, replayed when Mixpanel
   * answers again; without one (or when it is full or unusable) they are
   * dropped and counted with the reason.
   */
  private undeliverable(q: RecordQueue, records: readonly QueuedRecord[], reason: UndeliverableReason): boolean {
    const left = this.spool ? this.spool.offer(q, records, reason) : records;
    this.accounting.settle(q, left.length, reason);
    return left.length === 0;
  }

  /** Loads spooled records into the queues while they have room (always on flush, else only while delivery works). */
  private replay(force: boolean): void {
    if (!this.spool || this.closed) return;
    if (!force && (this.delivery.backingOff || this.flushes > 0)) return;
    try {
      const loaded = this.spool.replay(
        () => this.events.items.length + this.profiles.items.length,
        Math.ceil(this.config.maxQueueSize / 2),
        (records: SpoolRecord[], release: () => void) => {
          for (const record of records) {
            const q = record.endpoint === 'engage' ? this.profiles : this.events;
            q.enqueued++;
            const queued: QueuedRecord = {
              json: record.json,
              bytes: Buffer.byteLength(record.json),
              link: undefined,
              seq: q.enqueued,
            };
            q.push(queued);
          }
          // The file goes once every record loaded from it is delivered, dropped or spooled again.
          this.waiters.push({ targets: this.queues.map((q) => q.enqueued), resolve: release });
        },
      );
      this.accounting.replayed(loaded);
      if (loaded > 0) this.drainAll();
    } catch (error) {
      this.log.error('replay', `spool replay failed: ${this.redact(String(error))}`);
    }
  }

  private drainAll(): void {
    for (const q of this.queues) void this.delivery.drain(q);
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    const oldest = this.queues.map((q) => this.oldestPending(q));
    this.waiters = this.waiters.filter((w) => {
      // Records settle out of order (an overflow spooled or dropped before older ones are sent):
      // a waiter is done when nothing numbered up to its target is still pending.
      const done = this.queues.every((_, i) => (oldest[i] as number) > (w.targets[i] as number));
      if (done) w.resolve();
      return !done;
    });
  }

  /** The number of the oldest record of `q` still queued, in flight or waiting for the spool. */
  private oldestPending(q: RecordQueue): number {
    let oldest = Math.min(q.inFlight?.[0]?.seq ?? Infinity, q.items[0]?.seq ?? Infinity);
    if (this.spool) oldest = Math.min(oldest, this.spool.oldestPending(q));
    return oldest === Infinity ? q.enqueued + 1 : oldest;
  }

  private redact(text: string): string {
    return redact(text, this.config.secrets);
  }
}

function activeSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}
