import { type Span, trace } from '@opentelemetry/api';

/**
 * Where `@opentelemetry/api` 1.x (this package's peer range) keeps what is
 * registered globally, shared by every copy of the API in the process.
 */
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1');

/**
 * The span active now, when it is recording. Without a global context
 * manager every context is the root one, which holds no span: that is read
 * first, from the API's registry, because `trace.getActiveSpan()` (a version
 * check, the context manager, the context's map) costs about 4 % of a
 * repeated `decide()` in a process with no OpenTelemetry SDK, where it can
 * only answer undefined.
 */
export function recordingActiveSpan(): Span | undefined {
  if ((globalThis as { [API_GLOBALS]?: { context?: unknown } })[API_GLOBALS]?.context === undefined) return undefined;
  const active = trace.getActiveSpan();
  return active?.isRecording() === true ? active : undefined;
}
