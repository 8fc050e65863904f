import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

/** A Mixpanel ingestion endpoint. */
export type Endpoint = 'track' | 'import' | 'engage';

/** One request: a JSON array of records for one endpoint. */
export interface TransportRequest {
  endpoint: Endpoint;
  /** The records as a JSON array. */
  body: string;
  /**
   * The same body as UTF-8 bytes, when the exporter wrote them: a transport
   * that sends bytes uses these, and the string is then never built.
   */
  bytes?: Uint8Array | undefined;
  /** How many records the body holds. */
  records: number;
  /** Aborts the request (timeout or shutdown). */
  signal: AbortSignal;
}

/** What came back. `status` 0 means the transport cannot tell (client adapters). */
export interface TransportResponse {
  status: number;
  body: string;
  retryAfter?: string | null | undefined;
  /** Where a 3xx pointed (never followed). */
  location?: string | null | undefined;
  /** Bytes sent, after compression. */
  requestBytes?: number | undefined;
}

/** Where requests of an endpoint go, for span attributes (never carries credentials). */
export interface TransportTarget {
  url: string;
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
}

/**
 * Sends one batch. Rejects on network errors and when `signal` aborts; any
 * HTTP status resolves.
 */
export interface Transport {
  send(request: TransportRequest): Promise<TransportResponse>;
  target(endpoint: Endpoint): TransportTarget;
}

/** Credentials of `/import`: a service account or the project's API secret. */
export type ImportAuth =
  | { serviceAccount: { username: string; secret: string; projectId: string } }
  | { apiSecret: string };

export interface HttpTransportOptions {
  baseUrl: URL;
  importAuth?: ImportAuth | undefined;
  /** Gzip `/import` bodies larger than this many bytes; `false` never. Default 1024. */
  gzipMinBytes?: number | false;
}

/**
 * Response text kept, at most: bounded memory whatever answers, yet room for `/import`'s strict
 * answer, which lists each failed record (about 150 bytes each, 2000 per batch).
 */
const MAX_RESPONSE_CHARS = 4 * 1024 * 1024;

/**
 * The default transport: Node's `http`/`https` with keep-alive connections of
 * its own, JSON bodies, gzip for large `/import` batches. Not `fetch`: on
 * Node 20 each `fetch` of a batch costs several times the CPU of the same
 * request through `http` (its streams and copies of the body), and every
 * exposure pays its share of that inside the application's process (see the
 * delivery-floor benchmark). Redirects are never followed; idle sockets never
 * keep the process alive.
 */
export class HttpTransport implements Transport {
  private readonly urls: Record<Endpoint, URL>;
  private readonly authorization: string | undefined;
  private readonly gzipMinBytes: number | false;
  private readonly baseUrl: URL;
  private readonly request: typeof httpRequest;
  private readonly agent: HttpAgent;

  constructor(options: HttpTransportOptions) {
    this.baseUrl = options.baseUrl;
    const url = (path: string, query: Record<string, string>) => {
      const u = new URL(path, options.baseUrl);
      for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
      return u;
    };
    const auth = options.importAuth;
    const projectId: Record<string, string> =
      auth && 'serviceAccount' in auth ? { project_id: auth.serviceAccount.projectId } : {};
    // ip=0: do not geolocate users by this server's address.
    this.urls = {
      track: url('track', { verbose: '1', ip: '0' }),
      engage: url('engage', { verbose: '1', ip: '0' }),
      import: url('import', { strict: '1', ...projectId }),
    };
    if (auth) {
      const user =
        'serviceAccount' in auth
          ? `${auth.serviceAccount.username}:${auth.serviceAccount.secret}`
          : `${auth.apiSecret}:`;
      this.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    }
    this.gzipMinBytes = options.gzipMinBytes ?? 1024;
    const https = options.baseUrl.protocol === 'https:';
    this.request = https ? httpsRequest : httpRequest;
    // One request per endpoint is in flight at a time: two sockets, kept between batches.
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  target(endpoint: Endpoint): TransportTarget {
    const port = this.baseUrl.port ? Number(this.baseUrl.port) : this.baseUrl.protocol === 'https:' ? 443 : 80;
    return { url: this.urls[endpoint].toString(), serverAddress: this.baseUrl.hostname, serverPort: port };
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
    };
    let body: Uint8Array = request.bytes ?? Buffer.from(request.body);
    if (request.endpoint === 'import') {
      if (this.authorization) headers.Authorization = this.authorization;
      if (this.gzipMinBytes !== false && body.length >= this.gzipMinBytes) {
        body = await gzip(body);
        headers['Content-Encoding'] = 'gzip';
      }
    }
    headers['Content-Length'] = body.length;
    const sent = body;
    return new Promise<TransportResponse>((resolve, reject) => {
      const req = this.request(
        this.urls[request.endpoint],
        { method: 'POST', headers, agent: this.agent, signal: request.signal },
        (res) => {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (chunk: string) => {
            if (text.length < MAX_RESPONSE_CHARS) text += chunk;
          });
          // on, not once: a second 'error' with no listener would be thrown into the application.
          res.on('error', reject);
          // A response cut short ends in 'close' without 'end'.
          res.once('close', () => {
            if (!res.complete) reject(new Error('the connection closed before the response ended'));
          });
          res.once('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: text.slice(0, MAX_RESPONSE_CHARS),
              retryAfter: header(res.headers['retry-after']),
              location: header(res.headers.location),
              requestBytes: sent.length,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(sent);
    });
  }
}

function header(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}
