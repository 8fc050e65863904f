import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { MixpanelRegion } from './hosts.js';
import type { RetryOptions } from './retry.js';
import type { Transport } from './transport.js';

/** Configuration of {@link MixpanelExporter}. Only `token` is required. */
export interface MixpanelExporterConfig {
  /** Mixpanel project token. Never written to spans, metrics, logs or errors. */
  token: string;
  /** Data residency: `us` (default), `eu` or `in`. Ignored when `apiHost` is set. */
  region?: MixpanelRegion;
  /**
   * Base URL of the ingestion API, e.g. `https://api-eu.mixpanel.com` or a proxy.
   * HTTPS is required except for loopback hosts (`http://127.0.0.1:8080`).
   */
  apiHost?: string;
  /**
   * `track` (default; token auth, events up to 5 days old) or `import`
   * (needs `serviceAccount` or `apiSecret`; `strict=1` reports per-record failures).
   */
  eventEndpoint?: 'track' | 'import';
  /** Service account for `/import`. */
  serviceAccount?: { username: string; secret: string; projectId: string };
  /** Project API secret for `/import` (legacy auth). */
  apiSecret?: string;
  /** Records per request, at most 2000 (Mixpanel's limit). Default 2000. */
  maxBatchSize?: number;
  /** Uncompressed bytes per request, at most 2 MB. Default 1 900 000. */
  maxBatchBytes?: number;
  /** A partial batch is sent after this long. Default 1000 ms. */
  flushIntervalMs?: number;
  /**
   * Records waiting to be sent at most (events and profile updates; the batches in flight come on top);
   * more are dropped and counted. Default 20 000.
   */
  maxQueueSize?: number;
  /**
   * Serialized bytes held at most, waiting or in flight, each record measured as it is queued; more are
   * dropped and counted. Default 32 MB.
   */
  maxQueueBytes?: number;
  /** Per-request timeout. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Retries of 429, 5xx, timeouts and network errors. */
  retry?: RetryOptions;
  /** Gzip `/import` bodies from this size in bytes; `false` never. Default 1024. */
  gzipMinBytes?: number | false;
  /** Send through this transport instead of Node's `http` (e.g. {@link MixpanelClientTransport}). */
  transport?: Transport;
  /**
   * Where records that cannot be delivered now go instead of being dropped
   * (queue overflow, shutdown past its deadline, retries exhausted, process
   * exit), to be replayed unchanged by the next exporter of the same project.
   * Default: a 0700 folder under the platform's state folder named by a hash
   * of the token (`/tmp` under AWS Lambda); `OPTIMIZELY_MIXPANEL_SPOOL_DIR`
   * overrides, `off` disables; `false` disables. The files hold events and
   * profile updates as queued, user ids included, never the token.
   */
  spool?: { dir?: string; maxBytes?: number } | false;
  /** Defaults to the globally registered one. */
  tracerProvider?: TracerProvider;
  /** Defaults to the globally registered one. */
  meterProvider?: MeterProvider;
}

/** Why records were dropped. Each is counted in `optimizely_mixpanel.records.dropped`. */
export type DropReason =
  /** The queue was full (count or bytes). */
  | 'queue_full'
  /** Mixpanel refused the records (400 or `status: 0`). */
  | 'rejected'
  /** 401/403: bad token or credentials. */
  | 'unauthorized'
  /** A 3xx: redirects are never followed (`apiHost` should name the final host). */
  | 'redirected'
  /** A single record larger than a request may be. */
  | 'too_large'
  /** A record JSON cannot encode (a BigInt or a cycle, e.g. added by a hook). */
  | 'unserializable'
  /** Still failing after `retry.maxAttempts`. */
  | 'retries_exhausted'
  /** Exported after shutdown, or still queued at the shutdown deadline (and no spool could take it). */
  | 'shutdown'
  /** The spool was at its byte cap. */
  | 'spool_full'
  /** Older than Mixpanel accepts by the time it could be sent (`/track`: 5 days). */
  | 'expired';

export const DROP_REASONS: readonly DropReason[] = [
  'queue_full',
  'rejected',
  'unauthorized',
  'redirected',
  'too_large',
  'unserializable',
  'retries_exhausted',
  'shutdown',
  'spool_full',
  'expired',
];

/** Counts since the exporter was created (events and profile updates are records). */
export interface ExporterStats {
  queued: number;
  exported: number;
  retried: number;
  dropped: Record<DropReason, number>;
  /** Exposures the caller reported as skipped, by reason (e.g. `duplicate`). */
  skipped: Record<string, number>;
  /** `dropped` split by record type: events, and profile updates (`profile`). */
  droppedByRecordType: Record<'event' | 'profile', Record<DropReason, number>>;
  /** Records waiting or in flight now. */
  pending: number;
  /** Records written to the spool, to be sent later (by this process or the next). */
  spooled: number;
  /** Records read back from the spool. */
  replayed: number;
  requests: number;
}
