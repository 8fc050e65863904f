/**
 * Keeps Mixpanel tokens and payloads out of HTTP client spans. The `mixpanel`
 * client sends `/track` and `/engage` as GET with `data=<base64 JSON>` holding
 * the project token; the HTTP instrumentation would record it in `url.full`.
 * This hook (for `startOutgoingSpanHook`) gives such spans a redacted URL from
 * their start.
 */
import type { RequestOptions } from 'node:http';
import type { Attributes } from '@opentelemetry/api';

const REDACTED = 'REDACTED';
/** Query parameters the client sends that carry nothing secret. */
const HARMLESS_PARAMS = new Set(['ip', 'verbose', 'test', 'strict', 'project_id', '_']);
const INGESTION_PATH = /\/(track|import|engage|groups|decide|flags)\/?$/;
const SECRET_PARAMS = /(^|&)(data|token|api_key|api_secret|secret)=/;
const hosts = new Set(['api.mixpanel.com', 'api-eu.mixpanel.com', 'api-in.mixpanel.com', 'api-js.mixpanel.com']);

/** Adds a host the application's Mixpanel client sends to (a proxy, a local server). */
export function registerMixpanelHost(host: string): void {
  const name = host.split(':')[0]?.toLowerCase();
  if (hosts.size < 1000 && name) hosts.add(name); // hosts come from configuration: the cap only guards a leak
}

/** Whether a request to `hostname` with `path` (query included) is one whose URL must not be recorded as is. */
export function isMixpanelRequest(hostname: string, path: string): boolean {
  const q = path.indexOf('?');
  const pathname = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : path.slice(q + 1);
  const host = hostname.toLowerCase();
  if (hosts.has(host) || host.endsWith('.mixpanel.com')) return query.length > 0;
  return INGESTION_PATH.test(pathname) && SECRET_PARAMS.test(query);
}

/** `path` with every query value but the harmless ones replaced by `REDACTED`. */
export function redactQuery(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const params = path
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return HARMLESS_PARAMS.has(name) || eq < 0 ? pair : `${name}=${REDACTED}`;
    });
  return `${path.slice(0, q)}?${params.join('&')}`;
}

/**
 * For `HttpInstrumentation`'s `startOutgoingSpanHook`: a redacted `url.full` for
 * requests to Mixpanel, nothing for others. Never throws.
 */
export function redactMixpanelSpanUrl(request: RequestOptions): Attributes {
  try {
    const path = request.path ?? '/';
    const hostname = request.hostname ?? request.host?.split(':')[0] ?? '';
    if (!isMixpanelRequest(hostname, path)) return {};
    const protocol = request.protocol ?? 'http:';
    const port = String(request.port ?? '');
    let host = request.host ?? hostname;
    if (!host.includes(':') && port && port !== '80' && port !== '443') host += `:${port}`;
    return { 'url.full': `${protocol}//${host}${redactQuery(path)}` };
  } catch {
    return { 'url.full': REDACTED };
  }
}
