import { context, ROOT_CONTEXT, type Span, type Tracer, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Accounting } from './accounting.js';
import { type BatchLimits, requestBody, requestBytes, takeBatch, tokenOverhead } from './batch.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { QueuedRecord, RecordQueue, Undeliverable } from './record-queue.js';
import { truncate } from './redact.js';
import { recordFailure, recordRejected, startRequestSpan } from './request-span.js';
import { classifyResponse, describeResponse, type Outcome } from './response.js';
import { type ResolvedRetryOptions, retryDelayMs } from './retry.js';
import * as semconv from './semconv.js';
import type { Transport, TransportRequest, TransportResponse } from './transport.js';
import type { DropReason } from './types.js';

export interface DeliveryOptions {
  token: string;
  transport: Transport;
  tracer: Tracer;
  retry: ResolvedRetryOptions;
  requestTimeoutMs: number;
  limits: BatchLimits;
  accounting: Accounting;
  log: RateLimitedLog;
  redact: (text: string) => string;
  /** Where records go that cannot be delivered now. */
  undeliverable: Undeliverable;
  /** True while a flush() waits: backoff timers then keep the process alive. */
  flushing: () => boolean;
  /** Called when a batch is no longer in flight. */
  batchDone?: () => void;
}

/** The outcome of one attempt, with the delay before the next one when it is retried. */
type AttemptResult = Exclude<Outcome, { kind: 'retry' }> | { kind: 'retry'; delayMs: number };

interface Sleep {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

/**
 * Sends queues to Mixpanel: batch after batch, one request in flight per
 * endpoint, retried with backoff, split on 413, each request one span.
 */
export class Delivery {
  private readonly sleeps = new Set<Sleep>();
  private readonly abortController = new AbortController();
  private readonly overhead: number;

  constructor(private readonly options: DeliveryOptions) {
    this.overhead = tokenOverhead(options.token);
  }

  /** Sends the queue's records until it is empty. Never rejects. */
  async drain(q: RecordQueue): Promise<void> {
    if (q.sending) return;
    q.sending = true;
    const { accounting, limits } = this.options;
    try {
      while (q.items.length > 0) {
        const batch = takeBatch(q, limits, this.overhead);
        // In flight before anything settles: a flush() waiting by record number must see them.
        q.inFlight = batch.records;
        q.release(batch.tooLarge);
        accounting.settle(q, batch.tooLarge.length, 'too_large');
        try {
          if (batch.records.length > 0) await this.deliver(q, batch.records);
        } finally {
          q.inFlight = undefined;
          q.release(batch.records);
          this.options.batchDone?.();
        }
      }
    } catch (error) {
      this.options.log.error('unexpected', `unexpected export failure: ${this.options.redact(String(error))}`);
    } finally {
      q.sending = false;
    }
  }

  /** True while a batch waits to be retried: delivery is failing now. */
  get backingOff(): boolean {
    return this.sleeps.size > 0;
  }

  /** Keeps the process alive through pending backoffs (a flush() is waiting). */
  holdOpen(): void {
    for (const sleep of this.sleeps) sleep.timer.ref();
  }

  /** Aborts requests in flight and ends every backoff: what they carried is dropped as `shutdown`. */
  abort(): void {
    this.abortController.abort(new Error('exporter shut down'));
    for (const sleep of this.sleeps) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
    this.sleeps.clear();
  }

  /** Delivers one batch with retries; splits it on 413. Settles every record it was given. */
  private async deliver(q: RecordQueue, batch: QueuedRecord[]): Promise<void> {
    const { accounting, retry } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (this.abortController.signal.aborted) {
        this.options.undeliverable(q, batch, 'shutdown');
        return;
      }
      const outcome = await this.attempt(q, batch, attempt);
      switch (outcome.kind) {
        case 'ok':
          accounting.settle(q, batch.length - outcome.rejected);
          accounting.settle(q, outcome.rejected, 'rejected');
          return;
        case 'drop':
          if (outcome.reason === 'shutdown') this.options.undeliverable(q, batch, 'shutdown');
          else accounting.settle(q, batch.length, outcome.reason);
          return;
        case 'split': {
          if (batch.length === 1) {
            accounting.settle(q, 1, 'too_large');
            return;
          }
          const half = Math.ceil(batch.length / 2);
          await this.deliver(q, batch.slice(0, half));
          await this.deliver(q, batch.slice(half));
          return;
        }
        case 'retry':
          if (attempt >= retry.maxAttempts) {
            this.options.undeliverable(q, batch, 'retries_exhausted');
            return;
          }
          accounting.retried(q, batch.length);
          await this.sleep(outcome.delayMs);
      }
    }
  }

  /** One HTTP request, as one CLIENT span. */
  private async attempt(q: RecordQueue, batch: QueuedRecord[], attempt: number): Promise<AttemptResult> {
    const { transport, tracer, retry, requestTimeoutMs, redact, token } = this.options;
    const path = `/${q.endpoint}`;
    const span = startRequestSpan(tracer, {
      path,
      target: transport.target(q.endpoint),
      recordType: q.recordType,
      records: batch.length,
      attempt,
      links: batch.map((r) => r.link),
    });
    const started = performance.now();
    let status = 0;
    let result: AttemptResult;
    const shutdown = this.abortController.signal;
    const deadline = attemptSignal(requestTimeoutMs, shutdown);
    // The body as bytes, written once; as a string only for a transport that reads it.
    const bytes = requestBytes(q, batch, token);
    let body: string | undefined;
    const request: TransportRequest = {
      endpoint: q.endpoint,
      records: batch.length,
      signal: deadline.signal,
      bytes,
      get body() {
        body ??= bytes ? bytes.toString() : requestBody(q, batch, token);
        return body;
      },
    };
    try {
      // Suppressed: HTTP instrumentations must not trace (or loop on) our own requests.
      const response = await context.with(suppressTracing(trace.setSpan(ROOT_CONTEXT, span)), () =>
        transport.send(request),
      );
      status = response.status;
      if (status) span.setAttribute(semconv.ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      span.setAttribute(
        semconv.ATTR_HTTP_REQUEST_BODY_SIZE,
        response.requestBytes ?? bytes?.length ?? Buffer.byteLength(request.body),
      );
      const outcome = classifyResponse(q.endpoint, batch.length, response);
      this.report(span, q, response, outcome);
      result =
        outcome.kind === 'retry'
          ? { kind: 'retry', delayMs: retryDelayMs(attempt, retry, outcome.retryAfterMs) }
          : outcome;
    } catch (error) {
      const aborted = shutdown.aborted;
      const timeout = !aborted && deadline.timedOut();
      const errorType = aborted ? 'shutdown' : timeout ? 'timeout' : networkErrorType(error);
      const message = truncate(
        redact(timeout ? `request timed out after ${requestTimeoutMs} ms` : describeError(error)),
        300,
      );
      recordFailure(span, errorType, message);
      result = aborted
        ? { kind: 'drop', reason: 'shutdown' satisfies DropReason }
        : { kind: 'retry', delayMs: retryDelayMs(attempt, retry) };
    } finally {
      deadline.dispose();
    }
    if (result.kind === 'retry' && attempt < retry.maxAttempts) {
      span.setAttribute(semconv.ATTR_MIXPANEL_RETRY_DELAY_MS, result.delayMs);
    }
    this.options.accounting.request((performance.now() - started) / 1000, {
      [semconv.ATTR_MIXPANEL_ENDPOINT]: path,
      ...(status ? { [semconv.ATTR_HTTP_RESPONSE_STATUS_CODE]: status } : { [semconv.ATTR_ERROR_TYPE]: 'network' }),
    });
    span.end();
    return result;
  }

  /** Puts a response that is not plainly delivered on the span, and in the log where the user must act. */
  private report(span: Span, q: RecordQueue, response: TransportResponse, outcome: Outcome): void {
    const { redact, log } = this.options;
    const { status } = response;
    if (outcome.kind === 'ok') {
      if (outcome.rejected > 0) recordRejected(span, outcome.rejected);
      return;
    }
    if (outcome.kind === 'drop' && outcome.reason === 'unauthorized') {
      log.error(
        'unauthorized',
        `Mixpanel refused the credentials (HTTP ${status}): check the token or service account`,
      );
    }
    let message: string;
    if (outcome.kind === 'drop' && outcome.reason === 'redirected') {
      message = redact(
        `HTTP ${status}: redirected to ${this.redirectHost(response.location, q)}; redirects are not followed, set apiHost to the host that answers`,
      );
      log.error('redirected', `Mixpanel requests are redirected (${message})`);
    } else {
      message = `HTTP ${status}: ${truncate(redact(describeResponse(response.body)), 300)}`;
    }
    recordFailure(span, status ? String(status) : 'rejected', message, 'MixpanelHttpError');
  }

  /** The host a redirect pointed to: named, never contacted. */
  private redirectHost(location: string | null | undefined, q: RecordQueue): string {
    try {
      return location ? new URL(location, this.options.transport.target(q.endpoint).url).host : 'nowhere (no Location)';
    } catch {
      return 'an invalid Location';
    }
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
      if (!this.options.flushing()) sleep.timer.unref();
      this.sleeps.add(sleep);
    });
  }
}

/**
 * The abort signal of one attempt: its own timer, held here and cleared by
 * `dispose()`, and the exporter's shutdown. Not `AbortSignal.any([AbortSignal.timeout(ms), ...])`:
 * on Node 20 the timer inside can be garbage-collected and never fire (nodejs/node#57736).
 */
function attemptSignal(timeoutMs: number, shutdown: AbortSignal) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`request timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  timer.unref(); // the request's socket keeps the process alive, not this timer
  const onShutdown = () => controller.abort(shutdown.reason);
  if (shutdown.aborted) onShutdown();
  else shutdown.addEventListener('abort', onShutdown, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', onShutdown);
    },
  };
}

/** The socket error's code (`ECONNREFUSED`, `ECONNRESET`, ...), else the error's name: low cardinality either way. */
function networkErrorType(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
  return (error as Error | undefined)?.name ?? 'Error';
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}
