export { MixpanelClientTransport, type MixpanelNodeClient } from './client-transport.js';
export { MixpanelExporter } from './exporter.js';
export { isLoopbackHost, MIXPANEL_HOSTS, type MixpanelRegion, resolveApiHost } from './hosts.js';
export type { RetryOptions } from './retry.js';
export * as semconv from './semconv.js';
export type { SpoolDropReason } from './spool.js';
export type { PersistResult } from './spool-link.js';
export type { Endpoint, Transport, TransportRequest, TransportResponse, TransportTarget } from './transport.js';
export { DROP_REASONS, type DropReason, type ExporterStats, type MixpanelExporterConfig } from './types.js';
