import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};
type KeyValue = { key: string; value: AnyValue };

/** A span as received over OTLP/HTTP JSON, with attributes flattened to plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  scope: string;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string }>;
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

/**
 * An OTLP/HTTP receiver that accepts JSON-encoded traces
 * (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) and keeps the spans to read back:
 * a stand-in for Jaeger, Tempo or Honeycomb in tests and demos. Listens on
 * 127.0.0.1; protobuf bodies are refused with 415.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly rawBodies: string[] = [];
  private server: Server | undefined;
  url = '';

  /** Starts listening on 127.0.0.1 (`port` 0 picks a free one); resolves with the base URL. */
  async start(port = 0): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const type = req.headers['content-type'] ?? '';
      if (!type.includes('json')) {
        res.writeHead(415, { 'Content-Type': 'text/plain' }).end('this receiver reads OTLP/HTTP JSON only');
        return;
      }
      const text = body.toString('utf8');
      this.rawBodies.push(text);
      if (req.url?.startsWith('/v1/traces')) this.ingestTraces(JSON.parse(text));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Resolves once `predicate(spans)` holds, polling; rejects after `timeoutMs`. */
  async waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.spans)) {
      if (Date.now() > deadline) {
        throw new Error(`spans not received within ${timeoutMs} ms; have: ${this.spans.map((s) => s.name).join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: OTLP JSON is read structurally.
  private ingestTraces(request: any): void {
    for (const rs of request.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: s.kind,
            scope: ss.scope?.name ?? '',
            attributes: attributes(s.attributes),
            // biome-ignore lint/suspicious/noExplicitAny: see above.
            events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attributes(e.attributes) })),
            // biome-ignore lint/suspicious/noExplicitAny: see above.
            links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
            status: s.status ?? {},
            resource,
          });
        }
      }
    }
  }
}
