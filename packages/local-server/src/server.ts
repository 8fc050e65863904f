import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Credentials } from './auth.js';
import { FaultQueue } from './fault-queue.js';
import type { Fault, FaultRule } from './faults.js';
import { reply } from './http.js';
import type { AcceptedRecord } from './records.js';
import { route } from './routes.js';
import { type RequestLogEntry, Store, type StoredEvent } from './store.js';

/** Options of {@link LocalMixpanelServer}. */
export interface LocalMixpanelServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** When set, `/track` and `/engage` records must carry this token and `/import` accepts it as Basic user. */
  token?: string;
  /** When set, `/import` accepts `Basic base64(secret:)`. */
  apiSecret?: string;
  /** When set, `/import` accepts this service account with `?project_id=`. */
  serviceAccount?: { username: string; secret: string; projectId: string };
  /** Serve files from this folder for other GET paths (a page and its API on one origin). */
  staticDir?: string;
  /** Called for each accepted event and profile update, as they arrive. */
  onRecord?: (record: AcceptedRecord) => void;
  /** Clock in ms. */
  now?: () => number;
}

/**
 * An HTTP server that speaks Mixpanel's ingestion wire format (`/track`,
 * `/import`, `/engage`; GET and POST; form `data=`, JSON, NDJSON, gzip;
 * `verbose`, `strict`), validates and deduplicates as Mixpanel does, keeps
 * what it accepted, and plays faults on demand.
 *
 * @example
 * ```ts
 * const server = new LocalMixpanelServer({ token: 'test-token' });
 * const url = await server.start(); // http://127.0.0.1:PORT
 * server.injectFault('429:retry-after=1', { times: 2 });
 * // ... point a client at `url` ...
 * console.log(formatTable(server));
 * await server.stop();
 * ```
 */
export class LocalMixpanelServer {
  readonly store = new Store();
  readonly credentials: Credentials;
  readonly staticDir: string | undefined;
  readonly onRecord: ((record: AcceptedRecord) => void) | undefined;
  readonly now: () => number;
  private readonly host: string;
  private readonly faults = new FaultQueue();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private port: number;

  constructor(options: LocalMixpanelServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.now = options.now ?? Date.now;
    this.credentials = { token: options.token, apiSecret: options.apiSecret, serviceAccount: options.serviceAccount };
    this.staticDir = options.staticDir;
    this.onRecord = options.onRecord;
  }

  /**
   * Starts listening; resolves with the base URL (`http://127.0.0.1:PORT`).
   * After {@link stop} it listens again on the same port, with what it stored.
   */
  async start(): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => {
      route(req, res, this).catch((error: unknown) => {
        if (!res.headersSent) reply(res, 500, 'text/plain', String(error));
      });
    });
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this.url;
  }

  /**
   * Stops listening and drops every connection (hung ones included). Keeps the
   * port and what was stored: connections are refused until {@link start}.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Accepted events, deduplicated on `(event, time, distinct_id, $insert_id)`. */
  get events(): readonly StoredEvent[] {
    return this.store.events;
  }

  /** Profiles as `/engage` updates left them. */
  get profiles(): ReadonlyMap<string, Record<string, unknown>> {
    return this.store.profiles;
  }

  get requests(): readonly RequestLogEntry[] {
    return this.store.requests;
  }

  /**
   * Plays `fault` on the next `times` ingestion requests (default 1; `Infinity`
   * until {@link clearFaults}), optionally only for paths starting with `path`.
   * Faults queue up and apply in order.
   */
  injectFault(fault: Fault | string, options: { times?: number; path?: string } = {}): void {
    this.faults.add(fault, options);
  }

  /** The next queued fault for an ingestion request to `path`, counted as played. */
  takeFault(path: string): FaultRule | undefined {
    return this.faults.take(path);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Forgets everything stored and every fault. */
  reset(): void {
    this.store.clear();
    this.clearFaults();
  }

  /** Resolves once `predicate()` holds, polling; rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
