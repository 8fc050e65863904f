import { context, diag, metrics, type SpanContext, trace } from '@opentelemetry/api';
import type { Exposure, MixpanelEvent, MixpanelProfileUpdate } from '@optimizely-mixpanel/core';
import { Accounting } from './accounting.js';
import { type ResolvedConfig, resolveConfig } from './config.js';
import { Delivery } from './deliver.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { hasRoom, type QueuedRecord, RecordQueue, toQueuedRecord, type UndeliverableReason } from './record-queue.js';
import { redact } from './redact.js';
import type { ExporterStats, MixpanelExporterConfig } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/**
 * Delivers exposures to Mixpanel from a server process: batched, bounded,
 * retried with backoff, flushable, and visible as OpenTelemetry spans and
 * metrics. Never throws from {@link export}; every record ends exported or
 * counted as dropped with a reason.
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
    });
    // Never keeps the process alive on its own; flush() and shutdown() hold it while they wait.
    this.interval = setInterval(() => this.drainAll(), this.config.flushIntervalMs);
    this.interval.unref();
  }

  /**
   * Queues an exposure's events and profile update. The span active now (or
   * `options.link`) is linked from the export span that carries them. Returns
   * false when anything was dropped (queue full or shut down), which is counted.
   */
  export(exposure: Exposure, options: { link?: SpanContext } = {}): boolean {
    try {
      const link = options.link ?? activeSpanContext();
      let ok = true;
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
   * delivered or definitively dropped (retries included). Keeps the process
   * alive while it waits.
   */
  flush(): Promise<ExporterStats> {
    const targets = this.queues.map((q) => q.enqueued);
    const done = new Promise<void>((resolve) => this.waiters.push({ targets, resolve }));
    this.delivery.holdOpen();
    this.drainAll();
    this.checkWaiters();
    return done.then(() => this.stats());
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
    if (this.closed) {
      this.undeliverable(q, [record], 'shutdown');
      return false;
    }
    if (!hasRoom(this.queues, record, this.config)) {
      this.undeliverable(q, [record], 'queue_full');
      return false;
    }
    q.push(record);
    this.accounting.queued(q);
    if (q.items.length >= this.config.maxBatchSize) void this.delivery.drain(q);
    return true;
  }

  /**
   * The one way out for records that cannot be delivered now (queue full,
   * shut down, retries exhausted): they are dropped and counted with the reason.
   */
  private undeliverable(q: RecordQueue, records: readonly QueuedRecord[], reason: UndeliverableReason): void {
    this.accounting.settle(q, records.length, reason);
  }

  private drainAll(): void {
    for (const q of this.queues) void this.delivery.drain(q);
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      const done = this.queues.every((q, i) => q.settled >= (w.targets[i] as number));
      if (done) w.resolve();
      return !done;
    });
  }

  private redact(text: string): string {
    return redact(text, this.config.secrets);
  }
}

function activeSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}
