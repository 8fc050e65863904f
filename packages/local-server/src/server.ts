import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { decodeRecords, MAX_BODY_BYTES, RequestError } from './decode.js';
import { type Fault, type FaultRule, faultBody, parseFault } from './faults.js';
import { type RequestLogEntry, Store, type StoredEvent, type StoredProfileUpdate } from './store.js';
import { MAX_RECORDS_PER_REQUEST, type RecordFailure, validateEvent } from './validate.js';

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
  onRecord?: (record: { type: 'event'; event: StoredEvent } | { type: 'profile'; update: StoredProfileUpdate }) => void;
  /** Clock in ms. */
  now?: () => number;
}

type Endpoint = '/track' | '/import' | '/engage';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

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
 * console.log(server.formatTable());
 * await server.stop();
 * ```
 */
export class LocalMixpanelServer {
  readonly store = new Store();
  private readonly options: LocalMixpanelServerOptions;
  private readonly faults: FaultRule[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private port: number;
  private readonly now: () => number;

  constructor(options: LocalMixpanelServerOptions = {}) {
    this.options = options;
    this.port = options.port ?? 0;
    this.now = options.now ?? Date.now;
  }

  /** Starts listening; resolves with the base URL (`http://127.0.0.1:PORT`). */
  async start(): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.reply(res, 500, 'text/plain', String(error));
      });
    });
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this.url;
  }

  /** Stops listening and drops every connection (hung ones included). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Goes away: connections are refused until {@link up}. Keeps the port and what was stored. */
  async down(): Promise<void> {
    await this.stop();
  }

  /** Comes back on the same port after {@link down}. */
  async up(): Promise<string> {
    return this.start();
  }

  get url(): string {
    const host = this.options.host ?? '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
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
    this.faults.push({
      fault: typeof fault === 'string' ? parseFault(fault) : fault,
      remaining: options.times ?? 1,
      path: options.path,
    });
  }

  clearFaults(): void {
    this.faults.length = 0;
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

  private takeFault(path: string): FaultRule | undefined {
    const index = this.faults.findIndex((rule) => rule.remaining > 0 && (!rule.path || path.startsWith(rule.path)));
    if (index < 0) return undefined;
    const rule = this.faults[index] as FaultRule;
    rule.remaining--;
    if (rule.remaining <= 0) this.faults.splice(index, 1);
    return rule;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const origin = req.headers.origin;
    if (origin) {
      // mixpanel-browser sends XHRs with credentials: echo the origin, never `*`.
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '*');
      res.writeHead(204).end();
      return;
    }
    if (path === '/track' || path === '/import' || path === '/engage') {
      await this.ingest(path, url, req, res);
      return;
    }
    if (path.startsWith('/_local/')) {
      await this.control(path, url, req, res);
      return;
    }
    if (req.method === 'GET' && this.options.staticDir) {
      await this.serveStatic(url.pathname, res);
      return;
    }
    this.reply(res, 404, 'text/plain', 'not found');
  }

  private async ingest(endpoint: Endpoint, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: endpoint,
      status: 200,
      records: 0,
      accepted: 0,
      duplicates: 0,
      contentType: req.headers['content-type'],
      contentEncoding: req.headers['content-encoding'],
      receivedAt: this.now(),
    };
    this.store.requests.push(entry);

    const rule = this.takeFault(endpoint);
    if (rule) {
      const { fault } = rule;
      entry.fault =
        fault.kind === 'status'
          ? String(fault.status)
          : fault.kind === 'delay'
            ? `delay=${fault.ms}`
            : fault.kind === 'reply'
              ? fault.name
              : fault.kind;
      if (fault.kind === 'hang') {
        entry.status = 0;
        return; // The socket stays open until the client gives up or the server stops.
      }
      if (fault.kind === 'reset') {
        entry.status = 0;
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'status') {
        entry.status = fault.status;
        if (fault.retryAfter !== undefined) res.setHeader('Retry-After', fault.retryAfter);
        this.reply(res, fault.status, 'application/json', faultBody(fault.status));
        return;
      }
      if (fault.kind === 'reply') {
        entry.status = fault.status;
        for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
        this.reply(res, fault.status, fault.contentType, fault.body);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
    }

    const verbose = url.searchParams.get('verbose') === '1';
    try {
      if (body === undefined) throw new RequestError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
      const records = decodeRecords(url.searchParams, url.search.slice(1), body, req.headers);
      entry.records = records.length;
      if (records.length > MAX_RECORDS_PER_REQUEST) {
        throw new RequestError(400, `too many records: at most ${MAX_RECORDS_PER_REQUEST} per request`);
      }
      if (endpoint === '/engage') this.ingestProfiles(records, entry);
      else if (endpoint === '/track') this.ingestTrack(records, entry);
      else {
        this.checkImportAuth(req, url);
        const result = this.ingestImport(records, entry, url.searchParams.get('strict') === '1');
        entry.status = result.failed.length > 0 ? 400 : 200;
        this.reply(
          res,
          entry.status,
          'application/json',
          JSON.stringify(
            result.failed.length > 0
              ? {
                  code: 400,
                  error: 'some data points in the request failed validation',
                  failed_records: result.failed,
                  num_records_imported: result.imported,
                  status: 'Bad Request',
                }
              : { code: 200, num_records_imported: result.imported, status: 'OK' },
          ),
        );
        return;
      }
      entry.status = 200;
      if (verbose) this.reply(res, 200, 'application/json', JSON.stringify({ status: 1, error: null }));
      else this.reply(res, 200, 'text/plain', '1');
    } catch (error) {
      const status = error instanceof RequestError ? error.status : 400;
      const message = error instanceof Error ? error.message : String(error);
      entry.status = status;
      entry.error = message;
      if (endpoint === '/import') {
        this.reply(res, status, 'application/json', JSON.stringify({ code: status, error: message, status: 'error' }));
      } else if (verbose) {
        this.reply(res, status, 'application/json', JSON.stringify({ status: 0, error: message }));
      } else {
        this.reply(res, status, 'text/plain', '0');
      }
    }
  }

  private checkToken(token: unknown): void {
    if (typeof token !== 'string' || token.length === 0) throw new RequestError(400, 'token, missing or empty');
    if (this.options.token !== undefined && token !== this.options.token) {
      throw new RequestError(401, 'Invalid token');
    }
  }

  private ingestTrack(records: unknown[], entry: RequestLogEntry): void {
    const now = this.now();
    const accepted: StoredEvent[] = [];
    for (const [index, record] of records.entries()) {
      const result = validateEvent(record, index, { strictIds: false, now });
      if ('failure' in result) throw new RequestError(400, `record ${index}: ${result.failure.message}`);
      this.checkToken(result.event.properties.token);
      accepted.push({ ...result.event, endpoint: '/track', receivedAt: now });
    }
    // /track accepts a batch whole or not at all.
    for (const event of accepted) this.keep(event, entry);
  }

  private ingestImport(records: unknown[], entry: RequestLogEntry, strict: boolean) {
    const now = this.now();
    const failed: RecordFailure[] = [];
    let imported = 0;
    for (const [index, record] of records.entries()) {
      const result = validateEvent(record, index, { strictIds: true, now });
      if ('failure' in result) {
        failed.push(result.failure);
        continue;
      }
      imported++;
      this.keep({ ...result.event, endpoint: '/import', receivedAt: now }, entry);
    }
    // Without strict=1 Mixpanel drops invalid records silently.
    return { imported, failed: strict ? failed : [] };
  }

  private keep(event: StoredEvent, entry: RequestLogEntry): void {
    if (this.store.addEvent(event)) {
      entry.accepted++;
      this.options.onRecord?.({ type: 'event', event });
    } else {
      entry.duplicates++;
    }
  }

  private ingestProfiles(records: unknown[], entry: RequestLogEntry): void {
    const now = this.now();
    for (const [index, record] of records.entries()) {
      if (record === null || typeof record !== 'object') throw new RequestError(400, `record ${index}: not an object`);
      this.checkToken((record as Record<string, unknown>).$token);
    }
    for (const record of records as Record<string, unknown>[]) {
      const error = this.store.applyProfileUpdate(record, now);
      if (error) throw new RequestError(400, error);
      entry.accepted++;
      const update = this.store.profileUpdates[this.store.profileUpdates.length - 1] as StoredProfileUpdate;
      this.options.onRecord?.({ type: 'profile', update });
    }
  }

  private checkImportAuth(req: IncomingMessage, url: URL): void {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) throw new RequestError(401, 'Basic authentication is required');
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const { token, apiSecret, serviceAccount } = this.options;
    if (!user) throw new RequestError(401, 'Invalid credentials');
    if (token === undefined && apiSecret === undefined && serviceAccount === undefined) return;
    const projectId = url.searchParams.get('project_id');
    const ok =
      (serviceAccount !== undefined &&
        user === serviceAccount.username &&
        password === serviceAccount.secret &&
        projectId === serviceAccount.projectId) ||
      (apiSecret !== undefined && user === apiSecret && password === '') ||
      (token !== undefined && user === token && password === '');
    if (!ok) throw new RequestError(401, 'Invalid credentials');
  }

  private async control(path: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    await readBody(req);
    const json = (value: unknown) => this.reply(res, 200, 'application/json', JSON.stringify(value));
    if (path === '/_local/events') return json(this.store.events);
    if (path === '/_local/profiles') return json(Object.fromEntries(this.store.profiles));
    if (path === '/_local/requests') return json(this.store.requests);
    if (path === '/_local/summary') return json(summarize(this));
    if (path === '/_local/reset' && req.method === 'POST') {
      this.reset();
      return json({ ok: true });
    }
    if (path === '/_local/faults' && req.method === 'POST') {
      try {
        const times = url.searchParams.get('times');
        this.injectFault(url.searchParams.get('fault') ?? '', {
          times: times === 'always' ? Number.POSITIVE_INFINITY : Number(times ?? 1),
          ...(url.searchParams.get('path') ? { path: url.searchParams.get('path') as string } : {}),
        });
      } catch (error) {
        return this.reply(res, 400, 'text/plain', (error as Error).message);
      }
      return json({ ok: true });
    }
    if (path === '/_local/faults' && req.method === 'DELETE') {
      this.clearFaults();
      return json({ ok: true });
    }
    this.reply(res, 404, 'text/plain', 'not found');
  }

  private async serveStatic(pathname: string, res: ServerResponse): Promise<void> {
    const root = normalize(this.options.staticDir as string);
    const relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    const file = normalize(join(root, relative));
    if (!file.startsWith(root + sep) && file !== root) return this.reply(res, 403, 'text/plain', 'forbidden');
    try {
      const content = await readFile(file);
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(content);
    } catch {
      this.reply(res, 404, 'text/plain', 'not found');
    }
  }

  private reply(res: ServerResponse, status: number, contentType: string, body: string): void {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}

/** Reads a request body, or `undefined` past the size limit (gzip may hide a larger one). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk as Buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

/** Exposures per flag and variation, and profile properties, from what the server holds. */
export function summarize(server: LocalMixpanelServer) {
  const exposures: Record<string, Record<string, number>> = {};
  for (const { event, properties } of server.events) {
    if (event !== 'Experiment Viewed' && event !== '$experiment_started') continue;
    const flag = String(properties.flag_key ?? properties['Experiment name'] ?? '?');
    const variation = String(properties.variation_key ?? properties['Variant name'] ?? '?');
    exposures[flag] ??= {};
    (exposures[flag] as Record<string, number>)[variation] =
      ((exposures[flag] as Record<string, number>)[variation] ?? 0) + 1;
  }
  const profileProperties: Record<string, Record<string, number>> = {};
  for (const profile of server.profiles.values()) {
    for (const [name, value] of Object.entries(profile)) {
      profileProperties[name] ??= {};
      const key = String(value);
      (profileProperties[name] as Record<string, number>)[key] =
        ((profileProperties[name] as Record<string, number>)[key] ?? 0) + 1;
    }
  }
  return {
    events: server.events.length,
    duplicatesDropped: server.store.duplicates,
    profiles: server.profiles.size,
    requests: server.requests.length,
    exposures,
    profileProperties,
  };
}
