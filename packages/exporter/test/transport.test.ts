import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport, type TransportRequest } from '../src/transport.js';

const servers: Array<Server | NetServer> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    (server as Server).closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen<T extends Server | NetServer>(server: T): Promise<URL> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

const request = (body = '[{"event":"E","properties":{}}]'): TransportRequest => ({
  endpoint: 'track',
  body,
  records: 1,
  signal: new AbortController().signal,
});

/** Sends one empty batch from a child process (as an application would), which must exit by itself. */
async function sendFromChild(url: URL, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const transport = fileURLToPath(new URL('../dist/transport.js', import.meta.url));
  const script = `
    const { HttpTransport } = require(${JSON.stringify(transport)});
    new HttpTransport({ baseUrl: new URL(${JSON.stringify(url.href)}) })
      .send({ endpoint: 'track', body: '[]', records: 0, signal: new AbortController().signal })
      .then((r) => console.log(r.status, r.body));`;
  const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
  return out.trim();
}

describe('HttpTransport', () => {
  it('sends the body and reads the answer, over one kept-alive connection', async () => {
    const bodies: string[] = [];
    let connections = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${req.headers['content-type']} ${body}`);
        res.setHeader('retry-after', '7');
        res.end('{"status":1,"error":null}');
      });
    });
    server.on('connection', () => connections++);
    const transport = new HttpTransport({ baseUrl: await listen(server) });
    const first = await transport.send(request());
    const second = await transport.send({ ...request(), bytes: Buffer.from('[{"event":"F","properties":{}}]') });
    expect(first).toMatchObject({ status: 200, body: '{"status":1,"error":null}', retryAfter: '7', location: null });
    expect(bodies).toEqual([
      'POST /track?verbose=1&ip=0 application/json [{"event":"E","properties":{}}]',
      'POST /track?verbose=1&ip=0 application/json [{"event":"F","properties":{}}]',
    ]);
    expect(second.requestBytes).toBe(31);
    expect(connections).toBe(1);
  });

  it('rejects a response cut short, rather than taking part of it as the answer', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"status":');
        socket.destroy();
      });
    });
    const transport = new HttpTransport({ baseUrl: await listen(server) });
    await expect(transport.send(request())).rejects.toThrow();
  });

  it('keeps only the head of an endless answer, and reads it to the end', async () => {
    const page = `<html>${'x'.repeat(6 * 1024 * 1024)}</html>`;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
    });
    const transport = new HttpTransport({ baseUrl: await listen(server) });
    const response = await transport.send(request());
    expect(response.status).toBe(200);
    expect(response.body).toBe(page.slice(0, 4 * 1024 * 1024));
  });

  it('lets the process exit while its connection stays open and idle', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('1'));
    });
    // The server would keep the idle connection for a minute: only the client side may let go.
    server.keepAliveTimeout = 60_000;
    expect(await sendFromChild(await listen(server))).toBe('200 1');
  }, 20_000);

  it('verifies the certificate of an HTTPS host: refuses an untrusted one, sends to a trusted one', async () => {
    // A self-signed certificate for 127.0.0.1 made for this test alone (openssl, EC P-256, 100 years).
    const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
    let requests = 0;
    const server = createHttpsServer(
      { key: fixture('self-signed.key.pem'), cert: fixture('self-signed.cert.pem') },
      (req, res) => {
        requests++;
        req.resume();
        req.on('end', () => res.end('1'));
      },
    );
    const url = new URL(`https://127.0.0.1:${(await listen(server)).port}`);
    await expect(new HttpTransport({ baseUrl: url }).send(request())).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    expect(requests).toBe(0);
    // Trusted the way an application trusts a private CA: the request goes through.
    const ca = fileURLToPath(new URL('./fixtures/self-signed.cert.pem', import.meta.url));
    expect(await sendFromChild(url, { ...process.env, NODE_EXTRA_CA_CERTS: ca })).toBe('200 1');
    expect(requests).toBe(1);
  }, 20_000);
});
