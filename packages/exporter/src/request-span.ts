import {
  type Attributes,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from '@opentelemetry/api';
import * as semconv from './semconv.js';
import type { TransportTarget } from './transport.js';

/** OpenTelemetry's default span link limit. */
const MAX_LINKS = 128;

/** What a request span describes. */
export interface RequestSpanInfo {
  path: string;
  target: TransportTarget;
  recordType: string;
  records: number;
  attempt: number;
  links: ReadonlyArray<SpanContext | undefined>;
}

/** Starts the CLIENT span of one request: a new trace, linked to the spans that made its exposures. */
export function startRequestSpan(tracer: Tracer, info: RequestSpanInfo): Span {
  const attributes: Attributes = {
    [semconv.ATTR_HTTP_REQUEST_METHOD]: 'POST',
    [semconv.ATTR_URL_FULL]: info.target.url,
    [semconv.ATTR_URL_TEMPLATE]: info.path,
    [semconv.ATTR_MIXPANEL_ENDPOINT]: info.path,
    [semconv.ATTR_MIXPANEL_RECORD_TYPE]: info.recordType,
    [semconv.ATTR_MIXPANEL_RECORDS_COUNT]: info.records,
    [semconv.ATTR_MIXPANEL_ATTEMPT]: info.attempt,
  };
  if (info.target.serverAddress) attributes[semconv.ATTR_SERVER_ADDRESS] = info.target.serverAddress;
  if (info.target.serverPort) attributes[semconv.ATTR_SERVER_PORT] = info.target.serverPort;
  if (info.attempt > 1) attributes[semconv.ATTR_HTTP_REQUEST_RESEND_COUNT] = info.attempt - 1;
  return tracer.startSpan(
    `POST ${info.path}`,
    { kind: SpanKind.CLIENT, attributes, links: linksOf(info.links) },
    ROOT_CONTEXT,
  );
}

/** Marks the span failed: `error.type`, an exception event and an error status with `message`. */
export function recordFailure(span: Span, errorType: string, message: string, exceptionName = errorType): void {
  span.setAttribute(semconv.ATTR_ERROR_TYPE, errorType);
  span.recordException({ name: exceptionName, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Records per-record rejections of a delivered batch. */
export function recordRejected(span: Span, rejected: number): void {
  span.setAttribute(semconv.ATTR_MIXPANEL_RECORDS_REJECTED, rejected);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${rejected} records rejected` });
}

function linksOf(contexts: ReadonlyArray<SpanContext | undefined>): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const link of contexts) {
    if (!link || seen.has(link.spanId)) continue;
    seen.add(link.spanId);
    links.push({ context: link });
    if (links.length >= MAX_LINKS) break;
  }
  return links;
}
