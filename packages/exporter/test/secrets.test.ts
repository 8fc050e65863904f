import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { MixpanelExporter } from '../src/index.js';
import { redact } from '../src/redact.js';
import { exposures, FAST_RETRY } from './helpers.js';

// Secrets with no natural substrings, so any fragment of one in the output is a leak.
const TOKEN = 'Zq8xT3mW9pL2vN7kQ4';
const SECRET = 'Hj5rB1cY6dG0fK3sP8';

/** Every 6-character fragment of `secret` found in `text`. */
function fragments(text: string, secret: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 6 <= secret.length; i++) {
    if (text.includes(secret.slice(i, i + 6))) found.push(secret.slice(i, i + 6));
  }
  return found;
}

async function echoServer(reply: (body: string, req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    reply(Buffer.concat(chunks).toString(), req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

afterEach(() => diag.disable());

/** Runs an exporter of each event endpoint against `url` and returns everything it wrote to spans and logs. */
async function everythingWritten(url: string): Promise<string> {
  const logs: string[] = [];
  const capture = (...args: unknown[]) => logs.push(args.map(String).join(' '));
  diag.setLogger({ error: capture, warn: capture, info: capture, debug: capture, verbose: capture }, DiagLogLevel.ALL);
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  for (const eventEndpoint of ['track', 'import'] as const) {
    const exporter = new MixpanelExporter({
      token: TOKEN,
      apiSecret: SECRET,
      eventEndpoint,
      apiHost: url,
      tracerProvider,
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    });
    for (const exposure of exposures(3)) exporter.export(exposure);
    await exporter.flush();
    await exporter.shutdown();
  }
  const finished = spans.getFinishedSpans();
  expect(finished.length).toBeGreaterThanOrEqual(4);
  return (
    JSON.stringify(finished.map((s) => ({ a: s.attributes, e: s.events, st: s.status, n: s.name }))) + logs.join('\n')
  );
}

describe('secrets never leave', () => {
  it('a token straddling where an error body is cut is redacted whole', async () => {
    const server = await echoServer((_body, _req, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      // Secrets at every offset: wherever a message is cut, one of them straddles the cut.
      const error = Array.from({ length: 40 }, (_, i) => `${'x'.repeat(i % 7)}${i % 2 ? TOKEN : SECRET}`).join(' ');
      res.end(JSON.stringify({ status: 0, error }));
    });
    const text = await everythingWritten(server.url);
    await server.close();
    expect(fragments(text, TOKEN)).toEqual([]);
    expect(fragments(text, SECRET)).toEqual([]);
  });

  it('an echoed Authorization header and URL-encoded or base64 forms of a secret are redacted', async () => {
    const server = await echoServer((_body, req, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      const error = [
        `auth=${req.headers.authorization}`,
        `q=${encodeURIComponent(`${TOKEN}/+`)}`,
        `b64=${Buffer.from(`user=${TOKEN}`).toString('base64')}`,
        `b64url=${Buffer.from(`ab${SECRET}`).toString('base64url')}`,
      ].join(' ');
      res.end(JSON.stringify({ status: 0, error }));
    });
    const text = await everythingWritten(server.url);
    await server.close();
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain(Buffer.from(`${SECRET}:`).toString('base64').slice(0, 16));
    for (const prefix of ['', 'u', 'us', 'use']) {
      const encoded = Buffer.from(`${prefix}${TOKEN}`).toString('base64');
      expect(text).not.toContain(encoded.slice(4, 20));
    }
    expect(fragments(text, TOKEN)).toEqual([]);
  });

  it("error bodies on spans keep Mixpanel's message, not echoed records", async () => {
    const server = await echoServer((body, _req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end(`upstream failed for ${body}`);
    });
    const text = await everythingWritten(server.url);
    await server.close();
    expect(text).not.toContain('user-1');
    expect(text).toMatch(/HTTP 503/);
  });

  it('a configuration value that could be a secret is never printed', () => {
    for (const apiHost of [TOKEN, `http://${TOKEN}.example.com`, `${TOKEN}:x`, `ftp://${TOKEN}`]) {
      expect(() => new MixpanelExporter({ token: TOKEN, apiHost })).toThrow(/apiHost/);
      try {
        new MixpanelExporter({ token: TOKEN, apiHost });
      } catch (error) {
        expect(fragments(String(error).toLowerCase(), TOKEN.toLowerCase())).toEqual([]);
      }
    }
  });

  it('redact() removes every alignment of base64 and the URL-encoded form', () => {
    const secret = 'p@ss/w+rd=Secret99';
    for (const prefix of ['', 'a', 'ab', 'abc', 'Basic:']) {
      const text = `x ${Buffer.from(prefix + secret).toString('base64')} y`;
      const out = redact(text, [secret]);
      expect(out).toContain('[REDACTED]');
      expect(Buffer.from(out.slice(2, -2), 'base64').toString('latin1')).not.toContain(secret.slice(2, 14));
    }
    expect(redact(`q=${encodeURIComponent(secret)}`, [secret])).toBe('q=[REDACTED]');
    expect(redact(`q=${secret}`, [secret])).toBe('q=[REDACTED]');
  });
});
