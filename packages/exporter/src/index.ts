export { MixpanelClientTransport, type MixpanelNodeClient } from './client-transport.js';
export { MixpanelExporter } from './exporter.js';
export { isLoopbackHost, MIXPANEL_HOSTS, type MixpanelRegion, resolveApiHost } from './hosts.js';
export { parseRetryAfter, type RetryOptions } from './retry.js';
export * as semconv from './semconv.js';
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
