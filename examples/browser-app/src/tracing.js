// Tracing as a web app sets it up with @opentelemetry/sdk-trace-web. Spans are kept in memory and
// exposed on window for the test page to read, in place of an OTLP exporter.
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';

export function startTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new WebTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  window.finishedSpans = () =>
    exporter.getFinishedSpans().map((span) => ({
      name: span.name,
      traceId: span.spanContext().traceId,
      events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    }));
  return trace;
}
