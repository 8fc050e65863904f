export { MixpanelClientTransport, type MixpanelNodeClient } from './client-transport.js';
export { MixpanelExporter } from './exporter.js';
export { isLoopbackHost, MIXPANEL_HOSTS, type MixpanelRegion, resolveApiHost } from './hosts.js';
export { parseRetryAfter, type RetryOptions } from './retry.js';
export * as semconv from './semconv.js';
export {
  defaultSpoolDir,
  projectFingerprint,
  SPOOL_DROP_REASONS,
  Spool,
  type SpoolClaim,
  type SpoolDropReason,
  type SpoolOptions,
  type SpoolRecord,
  type SpoolStats,
  type SpoolWriteResult,
} from './spool.js';
export {
  type Endpoint,
  FetchTransport,
  type ImportAuth,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type TransportTarget,
} from './transport.js';
export { DROP_REASONS, type DropReason, type ExporterStats, type MixpanelExporterConfig } from './types.js';
