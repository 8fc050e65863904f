import type { BatchLimits } from './batch.js';
import { resolveApiHost } from './hosts.js';
import type { QueueBounds } from './record-queue.js';
import { type ResolvedRetryOptions, resolveRetryOptions } from './retry.js';
import { HttpTransport, type ImportAuth, type Transport } from './transport.js';
import type { MixpanelExporterConfig } from './types.js';

const MAX_BATCH_SIZE = 2000;
const MAX_BATCH_BYTES = 2 * 1024 * 1024;

/** A validated configuration with its defaults applied. */
export interface ResolvedConfig extends BatchLimits, QueueBounds {
  token: string;
  eventEndpoint: 'track' | 'import';
  /** Every credential, for redaction. */
  secrets: string[];
  requestTimeoutMs: number;
  flushIntervalMs: number;
  retry: ResolvedRetryOptions;
  transport: Transport;
}

/** @throws TypeError on an invalid configuration (missing token, plain HTTP to a remote host, ...). */
export function resolveConfig(config: MixpanelExporterConfig): ResolvedConfig {
  if (!config || typeof config.token !== 'string' || config.token.trim().length === 0) {
    throw new TypeError('MixpanelExporter needs a Mixpanel project token (config.token)');
  }
  const eventEndpoint = config.eventEndpoint ?? 'track';
  if (eventEndpoint !== 'track' && eventEndpoint !== 'import') {
    throw new TypeError("eventEndpoint must be 'track' or 'import'");
  }
  let importAuth: ImportAuth | undefined;
  if (config.serviceAccount) importAuth = { serviceAccount: config.serviceAccount };
  else if (config.apiSecret) importAuth = { apiSecret: config.apiSecret };
  if (eventEndpoint === 'import' && !importAuth && !config.transport) {
    throw new TypeError("eventEndpoint 'import' needs serviceAccount or apiSecret");
  }
  return {
    token: config.token,
    eventEndpoint,
    secrets: [config.token, config.apiSecret, config.serviceAccount?.secret].filter(
      (s): s is string => typeof s === 'string' && s.length > 0,
    ),
    maxBatchSize: bounded('maxBatchSize', config.maxBatchSize, MAX_BATCH_SIZE, 1, MAX_BATCH_SIZE),
    maxBatchBytes: bounded('maxBatchBytes', config.maxBatchBytes, 1_900_000, 1024, MAX_BATCH_BYTES),
    maxQueueSize: bounded('maxQueueSize', config.maxQueueSize, 20_000, 1, Number.MAX_SAFE_INTEGER),
    maxQueueBytes: bounded('maxQueueBytes', config.maxQueueBytes, 32 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
    requestTimeoutMs: bounded('requestTimeoutMs', config.requestTimeoutMs, 10_000, 1, 600_000),
    flushIntervalMs: bounded('flushIntervalMs', config.flushIntervalMs, 1000, 1, 3_600_000),
    retry: resolveRetryOptions(config.retry),
    transport:
      config.transport ??
      new HttpTransport({
        baseUrl: resolveApiHost(config.apiHost, config.region),
        importAuth,
        gzipMinBytes: config.gzipMinBytes ?? 1024,
      }),
  };
}

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(`${name} must be a number from ${min} to ${max}`);
  }
  return value;
}
