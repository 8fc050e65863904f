import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingActiveSpan } from '../src/active-span.js';

const tracer = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
}).getTracer('app');

afterEach(() => {
  context.disable();
});

describe('recordingActiveSpan', () => {
  it('finds what trace.getActiveSpan() finds, once a context manager is registered, also later', () => {
    const span = tracer.startSpan('request');
    // No context manager: context.with() cannot make the span active, for the API either.
    context.with(trace.setSpan(context.active(), span), () => {
      expect(trace.getActiveSpan()).toBeUndefined();
      expect(recordingActiveSpan()).toBeUndefined();
    });
    // Registered after the first decisions, as an SDK started after the preload is.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    context.with(trace.setSpan(context.active(), span), () => {
      expect(trace.getActiveSpan()).toBe(span);
      expect(recordingActiveSpan()).toBe(span);
    });
    expect(recordingActiveSpan()).toBeUndefined();
    span.end();
    context.with(trace.setSpan(context.active(), span), () => expect(recordingActiveSpan()).toBeUndefined());
    context.disable();
    context.with(trace.setSpan(context.active(), span), () => expect(recordingActiveSpan()).toBeUndefined());
  });

  it('ignores a span that does not record', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const remote = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
    context.with(trace.setSpan(context.active(), remote), () => {
      expect(trace.getActiveSpan()).toBe(remote);
      expect(recordingActiveSpan()).toBeUndefined();
    });
  });
});
