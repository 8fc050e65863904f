import {
  type Attributes,
  type Counter,
  context,
  diag,
  type Histogram,
  type Link,
  metrics,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Exposure, MixpanelEvent, MixpanelProfileUpdate } from '@optimizely-mixpanel/core';
import { resolveApiHost } from './hosts.js';
import { redact } from './redact.js';
import { parseRetryAfter, type ResolvedRetryOptions, resolveRetryOptions, retryDelayMs } from './retry.js';
import * as semconv from './semconv.js';
import type { SpoolRecord } from './spool.js';
import { openSpoolLink, type PersistResult, type SpoolLink, type SpoolOutcome } from './spool-link.js';
import { type Endpoint, FetchTransport, type ImportAuth, type Transport } from './transport.js';
import { DROP_REASONS, type DropReason, type ExporterStats, type MixpanelExporterConfig } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const MAX_BATCH_SIZE = 2000;
const MAX_BATCH_BYTES = 2 * 1024 * 1024;
/** OpenTelemetry's default span link limit. */
const MAX_LINKS = 128;
const EVENT_ATTRIBUTES = { [semconv.ATTR_MIXPANEL_RECORD_TYPE]: 'event' };
const PROFILE_ATTRIBUTES = { [semconv.ATTR_MIXPANEL_RECORD_TYPE]: 'profile' };

/** A record as queued: serialized only when its batch is built, off the decide() path. */
interface QueuedRecord {
  value: object;
  link: SpanContext | undefined;
  /** Its number in the queue (1, 2, ...): flush() waits until every record up to a number has settled. */
  seq: number;
}

/** A record in a batch: its JSON and size are known (and its value, for the spool: the JSON holds the token). */
interface SerializedRecord {
  json: string;
  link: SpanContext | undefined;
  value: object;
  seq: number;
}

/** One queue per endpoint: events (`/track` or `/import`) and profile updates (`/engage`). */
class RecordQueue {
  items: QueuedRecord[] = [];
  /** Running mean of serialized record sizes, for the byte bound of the queue. */
  meanBytes = 512;
  /** Records ever enqueued / settled (delivered or dropped): flush() waits for settled to catch up. */
  enqueued = 0;
  settled = 0;
  sending = false;
  /** The batch being delivered, written to the spool as a copy at exit. */
  inFlight: SerializedRecord[] | undefined;
  constructor(
    readonly endpoint: Endpoint,
    readonly recordType: 'event' | 'profile',
  ) {}

  get estimatedBytes(): number {
    return this.items.length * this.meanBytes;
  }
}

type Outcome =
  | { kind: 'ok'; rejected: number }
  | { kind: 'drop'; reason: DropReason }
  | { kind: 'split' }
  | { kind: 'retry'; delayMs: number };

interface Sleep {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

/**
 * Delivers exposures to Mixpanel from a server process: batched, bounded,
 * retried with backoff, flushable, and visible as OpenTelemetry spans and
 * metrics. Never throws from {@link export}; every record ends exported or
 * counted as dropped with a reason.
 *
 * @example
 * ```ts
 * const exporter = new MixpanelExporter({ token: process.env.MIXPANEL_TOKEN!, region: 'eu' });
 * const { exposure } = normalizer.normalize(notification);
 * if (exposure) exporter.export(exposure);
 * await exporter.flush(); // e.g. at the end of a Lambda handler
 * ```
 */
export class MixpanelExporter {
  private readonly token: string;
  private readonly secrets: string[];
  private readonly transport: Transport;
  private readonly events: RecordQueue;
  private readonly profiles: RecordQueue;
  private readonly queues: RecordQueue[];
  private readonly maxBatchSize: number;
  private readonly maxBatchBytes: number;
  private readonly maxQueueSize: number;
  private readonly maxQueueBytes: number;
  private readonly requestTimeoutMs: number;
  private readonly retry: ResolvedRetryOptions;
  private readonly tracer: Tracer;
  private readonly instruments: {
    queued: Counter;
    exported: Counter;
    retried: Counter;
    dropped: Counter;
    skipped: Counter;
    duration: Histogram;
  };
  private readonly counts: ExporterStats;
  private readonly interval: NodeJS.Timeout;
  private readonly sleeps = new Set<Sleep>();
  private readonly abortController = new AbortController();
  private waiters: Array<{ targets: number[]; resolve: () => void }> = [];
  private closed = false;
  private shutdownPromise: Promise<ExporterStats> | undefined;
  /** flush() calls running: they load the spool themselves, round by round. */
  private flushes = 0;
  private readonly lastDropLog = new Map<DropReason, number>();
  private readonly skipAttributes = new Map<string, Attributes>();
  private readonly log = diag.createComponentLogger({ namespace: PACKAGE_NAME });
  private readonly spool: SpoolLink<RecordQueue> | undefined;

  /** @throws TypeError on an invalid configuration (missing token, plain HTTP to a remote host, ...). */
  constructor(config: MixpanelExporterConfig) {
    if (!config || typeof config.token !== 'string' || config.token.trim().length === 0) {
      throw new TypeError('MixpanelExporter needs a Mixpanel project token (config.token)');
    }
    this.token = config.token;
    const eventEndpoint = config.eventEndpoint ?? 'track';
    if (eventEndpoint !== 'track' && eventEndpoint !== 'import') {
      throw new TypeError("eventEndpoint must be 'track' or 'import'");
    }
    let importAuth: ImportAuth | undefined;
    if (config.serviceAccount) importAuth = { serviceAccount: config.serviceAccount };
    else if (config.apiSecret) importAuth = { apiSecret: config.apiSecret };
    if (eventEndpoint === 'import' && !importAuth && !config.transport) {
      throw new TypeError("eventEndpoint 'import' needs serviceAccount or apiSecret");
    }
    this.secrets = [config.token, config.apiSecret, config.serviceAccount?.secret].filter(
      (s): s is string => typeof s === 'string' && s.length > 0,
    );
    this.maxBatchSize = bounded('maxBatchSize', config.maxBatchSize, MAX_BATCH_SIZE, 1, MAX_BATCH_SIZE);
    this.maxBatchBytes = bounded('maxBatchBytes', config.maxBatchBytes, 1_900_000, 1024, MAX_BATCH_BYTES);
    this.maxQueueSize = bounded('maxQueueSize', config.maxQueueSize, 20_000, 1, Number.MAX_SAFE_INTEGER);
    this.maxQueueBytes = bounded(
      'maxQueueBytes',
      config.maxQueueBytes,
      32 * 1024 * 1024,
      1024,
      Number.MAX_SAFE_INTEGER,
    );
    this.requestTimeoutMs = bounded('requestTimeoutMs', config.requestTimeoutMs, 10_000, 1, 600_000);
    const flushIntervalMs = bounded('flushIntervalMs', config.flushIntervalMs, 1000, 1, 3_600_000);
    this.retry = resolveRetryOptions(config.retry);
    this.transport =
      config.transport ??
      new FetchTransport({
        baseUrl: resolveApiHost(config.apiHost, config.region),
        importAuth,
        gzipMinBytes: config.gzipMinBytes ?? 1024,
      });

    this.events = new RecordQueue(eventEndpoint, 'event');
    this.profiles = new RecordQueue('engage', 'profile');
    this.queues = [this.events, this.profiles];

    this.tracer = (config.tracerProvider ?? trace.getTracerProvider()).getTracer(PACKAGE_NAME, PACKAGE_VERSION);
    const meter = (config.meterProvider ?? metrics.getMeterProvider()).getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    this.instruments = {
      queued: meter.createCounter(semconv.METRIC_RECORDS_QUEUED, { description: 'Records queued for Mixpanel' }),
      exported: meter.createCounter(semconv.METRIC_RECORDS_EXPORTED, { description: 'Records Mixpanel accepted' }),
      retried: meter.createCounter(semconv.METRIC_RECORDS_RETRIED, {
        description: 'Records sent again after a failure',
      }),
      dropped: meter.createCounter(semconv.METRIC_RECORDS_DROPPED, {
        description: 'Records given up on, by mixpanel.drop.reason',
      }),
      skipped: meter.createCounter(semconv.METRIC_EXPOSURES_SKIPPED, {
        description: 'Decisions not exported, by optimizely.skip.reason (duplicate, no_rule, ...)',
      }),
      duration: meter.createHistogram(semconv.METRIC_REQUEST_DURATION, {
        description: 'Duration of requests to Mixpanel',
        unit: 's',
      }),
    };
    meter
      .createObservableGauge(semconv.METRIC_QUEUE_SIZE, { description: 'Records waiting or in flight' })
      .addCallback((result) => {
        for (const q of this.queues)
          result.observe(q.enqueued - q.settled, { [semconv.ATTR_MIXPANEL_RECORD_TYPE]: q.recordType });
      });

    this.counts = {
      queued: 0,
      exported: 0,
      retried: 0,
      dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
      skipped: {},
      pending: 0,
      requests: 0,
      spooled: 0,
      replayed: 0,
    };
    this.spool = openSpoolLink(config, this.log, (q, count, outcome) => this.settleSpool(q, count, outcome));

    // Never keeps the process alive on its own; flush() and shutdown() hold it while they wait.
    this.interval = setInterval(() => {
      this.replay(false);
      this.drainAll();
    }, flushIntervalMs);
    this.interval.unref();
    // What earlier processes left in the spool goes out first, without keeping this one alive.
    if (this.spool) setTimeout(() => this.replay(false), 0).unref();
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
      this.log.error(`export failed: ${this.redact(String(error))}`);
      return false;
    }
  }

  /** Queues one event; the token is added when its batch is serialized. */
  enqueueEvent(event: MixpanelEvent, link?: SpanContext): boolean {
    return this.enqueue(this.events, event, link);
  }

  /** Queues one profile update; the token is added when its batch is serialized. */
  enqueueProfileUpdate(update: MixpanelProfileUpdate, link?: SpanContext): boolean {
    return this.enqueue(this.profiles, update, link);
  }

  /** Counts a decision the caller did not export (`duplicate`, `no_rule`, ...), so none is lost silently. */
  countSkipped(reason: string): void {
    // Called inside decide() for every repeated decision: no allocation once a reason was seen.
    let attributes = this.skipAttributes.get(reason);
    if (!attributes) {
      attributes = { [semconv.ATTR_OPTIMIZELY_SKIP_REASON]: reason };
      if (this.skipAttributes.size < 64) this.skipAttributes.set(reason, attributes);
    }
    this.counts.skipped[reason] = (this.counts.skipped[reason] ?? 0) + 1;
    this.instruments.skipped.add(1, attributes);
  }

  /** Counts so far. */
  stats(): ExporterStats {
    return {
      ...this.counts,
      dropped: { ...this.counts.dropped },
      skipped: { ...this.counts.skipped },
      pending: this.queues.reduce((n, q) => n + q.enqueued - q.settled, 0),
    };
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
        const exported = this.counts.exported;
        this.replay(true);
        await this.flushQueued();
        // Another round only while the spool has more and Mixpanel takes records: never a loop in an outage.
        if (!this.spool || this.closed || this.counts.exported === exported || !this.spool.spool.hasPending()) break;
      }
    } finally {
      this.flushes--;
    }
    return this.stats();
  }

  private flushQueued(): Promise<void> {
    const targets = this.queues.map((q) => q.enqueued);
    const done = new Promise<void>((resolve) => this.waiters.push({ targets, resolve }));
    for (const sleep of this.sleeps) sleep.timer.ref();
    this.drainAll();
    this.checkWaiters();
    return done;
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
      this.abortController.abort(new Error('exporter shut down'));
      for (const sleep of this.sleeps) {
        clearTimeout(sleep.timer);
        sleep.resolve();
      }
      this.sleeps.clear();
      for (const q of this.queues) {
        const items = q.items;
        q.items = [];
        this.undeliverable(
          q,
          items.map((i) => i.value),
          'shutdown',
        );
      }
      await flushed;
    }
    return this.stats();
  }

  private enqueue(q: RecordQueue, value: object, link: SpanContext | undefined): boolean {
    q.enqueued++;
    if (this.closed) {
      if (this.spool?.offer(q, value, q.enqueued)) return true;
      this.settle(q, 1, 'shutdown');
      return false;
    }
    const pending = this.events.items.length + this.profiles.items.length;
    const pendingBytes = this.events.estimatedBytes + this.profiles.estimatedBytes;
    if (pending >= this.maxQueueSize || pendingBytes + q.meanBytes > this.maxQueueBytes) {
      // An outage longer than the queue: to disk, replayed once Mixpanel answers again.
      if (this.spool?.offer(q, value, q.enqueued)) return true;
      this.settle(q, 1, 'queue_full');
      return false;
    }
    q.items.push({ value, link, seq: q.enqueued });
    this.counts.queued++;
    this.instruments.queued.add(1, q.recordType === 'event' ? EVENT_ATTRIBUTES : PROFILE_ATTRIBUTES);
    if (q.items.length >= this.maxBatchSize) void this.drain(q);
    return true;
  }

  private serialize(q: RecordQueue, value: object): string {
    if (q.recordType === 'profile') return JSON.stringify({ $token: this.token, ...value });
    if (q.endpoint === 'import') return JSON.stringify(value);
    const event = value as MixpanelEvent;
    return JSON.stringify({ event: event.event, properties: { ...event.properties, token: this.token } });
  }

  private drainAll(): void {
    for (const q of this.queues) void this.drain(q);
  }

  /** Sends the queue's records, batch after batch, one request in flight per endpoint. Never rejects. */
  private async drain(q: RecordQueue): Promise<void> {
    if (q.sending) return;
    q.sending = true;
    try {
      while (q.items.length > 0) {
        const batch = this.takeBatch(q);
        if (batch.length > 0) await this.deliver(q, batch);
        q.inFlight = undefined;
        this.checkWaiters();
      }
    } catch (error) {
      this.log.error(`unexpected export failure: ${this.redact(String(error))}`);
    } finally {
      q.sending = false;
    }
  }

  /** Serializes records from the head of the queue into one request's worth. */
  private takeBatch(q: RecordQueue): SerializedRecord[] {
    const batch: SerializedRecord[] = [];
    let bytes = 2; // the array's brackets
    let taken = 0;
    let tooLarge = 0;
    let unserializable = 0;
    while (taken < q.items.length && batch.length < this.maxBatchSize) {
      const item = q.items[taken] as QueuedRecord;
      let json: string;
      try {
        json = this.serialize(q, item.value);
      } catch {
        // A BigInt or a cycle (e.g. added by a hook) must not wedge the queue behind it.
        unserializable++;
        taken++;
        continue;
      }
      const size = Buffer.byteLength(json) + 1;
      if (size + 2 > this.maxBatchBytes) {
        tooLarge++;
        taken++;
        continue;
      }
      if (batch.length > 0 && bytes + size > this.maxBatchBytes) break;
      q.meanBytes += (size - q.meanBytes) / 16;
      batch.push({ json, link: item.link, value: item.value, seq: item.seq });
      bytes += size;
      taken++;
    }
    q.items.splice(0, taken);
    q.inFlight = batch; // before the settles below: a flush() must see these as pending
    if (tooLarge > 0) this.settle(q, tooLarge, 'too_large');
    if (unserializable > 0) this.settle(q, unserializable, 'unserializable');
    return batch;
  }

  /** Delivers one batch with retries; splits it on 413. Settles every record it was given. */
  private async deliver(q: RecordQueue, batch: SerializedRecord[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.abortController.signal.aborted) {
        this.undeliverable(
          q,
          batch.map((r) => r.value),
          'shutdown',
        );
        return;
      }
      const outcome = await this.attempt(q, batch, attempt);
      switch (outcome.kind) {
        case 'ok':
          this.settle(q, batch.length - outcome.rejected);
          if (outcome.rejected > 0) this.settle(q, outcome.rejected, 'rejected');
          return;
        case 'drop':
          if (outcome.reason === 'shutdown')
            this.undeliverable(
              q,
              batch.map((r) => r.value),
              'shutdown',
            );
          else this.settle(q, batch.length, outcome.reason);
          return;
        case 'split': {
          if (batch.length === 1) {
            this.settle(q, 1, 'too_large');
            return;
          }
          const half = Math.ceil(batch.length / 2);
          await this.deliver(q, batch.slice(0, half));
          await this.deliver(q, batch.slice(half));
          return;
        }
        case 'retry':
          if (attempt >= this.retry.maxAttempts) {
            this.undeliverable(
              q,
              batch.map((r) => r.value),
              'retries_exhausted',
            );
            return;
          }
          this.counts.retried += batch.length;
          this.instruments.retried.add(batch.length, { [semconv.ATTR_MIXPANEL_RECORD_TYPE]: q.recordType });
          await this.sleep(outcome.delayMs);
      }
    }
  }

  /** One HTTP request, as one CLIENT span. */
  private async attempt(q: RecordQueue, batch: SerializedRecord[], attempt: number): Promise<Outcome> {
    const target = this.transport.target(q.endpoint);
    const path = `/${q.endpoint}`;
    const attributes: Attributes = {
      [semconv.ATTR_HTTP_REQUEST_METHOD]: 'POST',
      [semconv.ATTR_URL_FULL]: target.url,
      [semconv.ATTR_URL_TEMPLATE]: path,
      [semconv.ATTR_MIXPANEL_ENDPOINT]: path,
      [semconv.ATTR_MIXPANEL_RECORD_TYPE]: q.recordType,
      [semconv.ATTR_MIXPANEL_RECORDS_COUNT]: batch.length,
      [semconv.ATTR_MIXPANEL_ATTEMPT]: attempt,
    };
    if (target.serverAddress) attributes[semconv.ATTR_SERVER_ADDRESS] = target.serverAddress;
    if (target.serverPort) attributes[semconv.ATTR_SERVER_PORT] = target.serverPort;
    if (attempt > 1) attributes[semconv.ATTR_HTTP_REQUEST_RESEND_COUNT] = attempt - 1;
    // A new trace per request, linked to the spans that made its exposures.
    const span = this.tracer.startSpan(
      `POST ${path}`,
      { kind: SpanKind.CLIENT, attributes, links: linksOf(batch) },
      ROOT_CONTEXT,
    );
    const body = `[${batch.map((r) => r.json).join(',')}]`;
    const started = performance.now();
    let status = 0;
    let outcome: Outcome;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.requestTimeoutMs), this.abortController.signal]);
      // Suppressed: HTTP instrumentations must not trace (or loop on) our own requests.
      const response = await context.with(suppressTracing(trace.setSpan(ROOT_CONTEXT, span)), () =>
        this.transport.send({ endpoint: q.endpoint, body, records: batch.length, signal }),
      );
      status = response.status;
      if (status) span.setAttribute(semconv.ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      span.setAttribute(semconv.ATTR_HTTP_REQUEST_BODY_SIZE, response.requestBytes ?? Buffer.byteLength(body));
      outcome = this.classify(q.endpoint, batch.length, attempt, response);
      if (outcome.kind === 'ok' && outcome.rejected > 0) {
        span.setAttribute(semconv.ATTR_MIXPANEL_RECORDS_REJECTED, outcome.rejected);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.rejected} records rejected` });
      } else if (outcome.kind !== 'ok') {
        const message = `HTTP ${status}: ${this.redact(response.body.slice(0, 300))}`;
        span.setAttribute(semconv.ATTR_ERROR_TYPE, status ? String(status) : 'rejected');
        span.recordException({ name: 'MixpanelHttpError', message });
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      }
    } catch (error) {
      const aborted = this.abortController.signal.aborted;
      const timeout = !aborted && (error as Error)?.name === 'TimeoutError';
      const errorType = aborted ? 'shutdown' : timeout ? 'timeout' : ((error as Error)?.name ?? 'Error');
      const message = this.redact(
        timeout ? `request timed out after ${this.requestTimeoutMs} ms` : describeError(error),
      );
      span.setAttribute(semconv.ATTR_ERROR_TYPE, errorType);
      span.recordException({ name: errorType, message });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      outcome = aborted
        ? { kind: 'drop', reason: 'shutdown' }
        : { kind: 'retry', delayMs: retryDelayMs(attempt, this.retry) };
    }
    if (outcome.kind === 'retry' && attempt < this.retry.maxAttempts) {
      span.setAttribute(semconv.ATTR_MIXPANEL_RETRY_DELAY_MS, outcome.delayMs);
    }
    this.counts.requests++;
    this.instruments.duration.record((performance.now() - started) / 1000, {
      [semconv.ATTR_MIXPANEL_ENDPOINT]: path,
      ...(status ? { [semconv.ATTR_HTTP_RESPONSE_STATUS_CODE]: status } : { [semconv.ATTR_ERROR_TYPE]: 'network' }),
    });
    span.end();
    return outcome;
  }

  private classify(
    endpoint: Endpoint,
    records: number,
    attempt: number,
    response: { status: number; body: string; retryAfter?: string | null | undefined },
  ): Outcome {
    const { status, body } = response;
    if (status >= 200 && status < 300) {
      if (endpoint === 'import') return { kind: 'ok', rejected: 0 };
      // /track and /engage answer 200 with `status: 0` (verbose) or `0` when they refuse a batch.
      const accepted = body.trim() === '1' || parseJson(body)?.status === 1;
      return accepted ? { kind: 'ok', rejected: 0 } : { kind: 'drop', reason: 'rejected' };
    }
    if (status === 413) return { kind: 'split' };
    if (status === 408 || status === 429 || status >= 500 || status === 0) {
      return { kind: 'retry', delayMs: retryDelayMs(attempt, this.retry, parseRetryAfter(response.retryAfter)) };
    }
    if (status === 401 || status === 403) {
      this.log.error(`Mixpanel refused the credentials (HTTP ${status}): check the token or service account`);
      return { kind: 'drop', reason: 'unauthorized' };
    }
    if (status === 400 && endpoint === 'import') {
      // strict=1: the valid records were imported, the listed ones were not.
      const failed = parseJson(body)?.failed_records;
      if (Array.isArray(failed)) return { kind: 'ok', rejected: Math.min(records, failed.length) };
    }
    return { kind: 'drop', reason: 'rejected' };
  }

  /**
   * Writes every record not yet delivered to the spool, synchronously: for a
   * process `exit` listener (only synchronous work runs there) and the end of
   * a Lambda invocation. Records in flight are written as copies. Without a
   * spool nothing is written and `dropped.shutdown` counts what is pending.
   */
  persistSync(): PersistResult {
    try {
      if (!this.spool) {
        const pending = this.stats().pending;
        return { spooled: 0, dropped: pending > 0 ? { shutdown: pending } : {}, dir: undefined };
      }
      const inFlight = this.queues.flatMap((q) => (q.inFlight ? [{ q, values: q.inFlight.map((r) => r.value) }] : []));
      return this.spool.persistSync(this.queues, inFlight);
    } catch (error) {
      this.log.error(`could not write pending records to the spool: ${this.redact(String(error))}`);
      return { spooled: 0, dropped: { shutdown: this.stats().pending }, dir: this.spool?.spool.dir };
    }
  }

  /** The spool folder in use, if any. */
  get spoolDir(): string | undefined {
    return this.spool?.spool.dir;
  }

  /**
   * Records that cannot be delivered now (queue overflow, shutdown past its
   * deadline, retries exhausted) go to the spool; without one they are dropped
   * with `reason`.
   */
  private undeliverable(q: RecordQueue, values: readonly object[], reason: DropReason): void {
    if (this.spool) this.spool.spill(q, values, reason);
    else this.settle(q, values.length, reason);
  }

  /** Loads spooled records into the queues while they have room (always on flush, else only while delivery works). */
  private replay(force: boolean): void {
    if (!this.spool || this.closed || (!force && (this.sleeps.size > 0 || this.flushes > 0))) return;
    try {
      const loaded = this.spool.replay(
        () => this.events.items.length + this.profiles.items.length,
        Math.ceil(this.maxQueueSize / 2),
        (records: SpoolRecord[], release: () => void) => {
          for (const record of records) {
            const q = record.endpoint === 'engage' ? this.profiles : this.events;
            q.enqueued++;
            q.items.push({ value: record.value, link: undefined, seq: q.enqueued });
          }
          // The file goes once every record loaded from it is delivered, dropped or spooled again.
          this.waiters.push({ targets: this.queues.map((q) => q.enqueued), resolve: release });
        },
      );
      this.counts.replayed += loaded;
      if (loaded > 0) this.drainAll();
    } catch (error) {
      this.log.error(`spool replay failed: ${this.redact(String(error))}`);
    }
  }

  private settleSpool(q: RecordQueue, count: number, outcome: SpoolOutcome): void {
    if (outcome !== 'spooled') {
      this.settle(q, count, outcome);
      return;
    }
    if (count <= 0) return;
    q.settled += count;
    this.counts.spooled += count;
    this.checkWaiters();
  }

  /** Records `count` records of `q` as done: exported when no reason is given, else dropped. */
  private settle(q: RecordQueue, count: number, reason?: DropReason): void {
    if (count <= 0) return;
    q.settled += count;
    const attributes = { [semconv.ATTR_MIXPANEL_RECORD_TYPE]: q.recordType };
    if (reason === undefined) {
      this.counts.exported += count;
      this.instruments.exported.add(count, attributes);
    } else {
      this.counts.dropped[reason] += count;
      this.instruments.dropped.add(count, { ...attributes, [semconv.ATTR_MIXPANEL_DROP_REASON]: reason });
      this.logDrop(reason, count, q);
    }
    this.checkWaiters();
  }

  /** Drops are logged at most once per reason every 10 s, so a storm cannot flood the log. */
  private logDrop(reason: DropReason, count: number, q: RecordQueue): void {
    const now = Date.now();
    if (now - (this.lastDropLog.get(reason) ?? 0) < 10_000) return;
    this.lastDropLog.set(reason, now);
    this.log.warn(
      `dropped ${count} ${q.recordType} record(s) for ${q.endpoint}: ${reason} (total ${this.counts.dropped[reason]})`,
    );
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
    // A queue whose records settled while none is tracked (e.g. drops counted at enqueue).
    return oldest === Infinity ? q.enqueued + 1 : oldest;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const sleep: Sleep = {
        timer: setTimeout(() => {
          this.sleeps.delete(sleep);
          resolve();
        }, ms),
        resolve,
      };
      // A backoff alone must not keep the host alive; a pending flush() does.
      if (this.waiters.length === 0) sleep.timer.unref();
      this.sleeps.add(sleep);
    });
  }

  private redact(text: string): string {
    return redact(text, this.secrets);
  }
}

function activeSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

function linksOf(batch: SerializedRecord[]): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const record of batch) {
    if (!record.link || seen.has(record.link.spanId)) continue;
    seen.add(record.link.spanId);
    links.push({ context: record.link });
    if (links.length >= MAX_LINKS) break;
  }
  return links;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(`${name} must be a number from ${min} to ${max}`);
  }
  return value;
}
