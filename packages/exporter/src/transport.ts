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

export interface FetchTransportOptions {
  baseUrl: URL;
  importAuth?: ImportAuth | undefined;
  /** Gzip `/import` bodies larger than this many bytes; `false` never. Default 1024. */
  gzipMinBytes?: number | false;
}

/** The default transport: the platform's `fetch`, JSON bodies, gzip for large `/import` batches. */
export class FetchTransport implements Transport {
  private readonly urls: Record<Endpoint, string>;
  private readonly authorization: string | undefined;
  private readonly gzipMinBytes: number | false;
  private readonly baseUrl: URL;

  constructor(options: FetchTransportOptions) {
    this.baseUrl = options.baseUrl;
    const url = (path: string, query: Record<string, string>) => {
      const u = new URL(path, options.baseUrl);
      for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
      return u.toString();
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
  }

  target(endpoint: Endpoint): TransportTarget {
    const port = this.baseUrl.port ? Number(this.baseUrl.port) : this.baseUrl.protocol === 'https:' ? 443 : 80;
    return { url: this.urls[endpoint], serverAddress: this.baseUrl.hostname, serverPort: port };
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    let body: string | Uint8Array = request.bytes ?? request.body;
    if (request.endpoint === 'import') {
      if (this.authorization) headers.Authorization = this.authorization;
      if (this.gzipMinBytes !== false && body.length >= this.gzipMinBytes) {
        body = await gzip(body);
        headers['Content-Encoding'] = 'gzip';
      }
    }
    const response = await fetch(this.urls[request.endpoint], {
      method: 'POST',
      headers,
      body,
      signal: request.signal,
      // Never re-send the token-bearing body elsewhere, nor turn a POST into a bodiless GET.
      redirect: 'manual',
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text,
      retryAfter: response.headers.get('retry-after'),
      location: response.headers.get('location'),
      requestBytes: typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    };
  }
}
