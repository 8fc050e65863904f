import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Sets the CORS headers a browser client needs; answers a preflight and
 * returns `true` when the request was one.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  if (origin) {
    // mixpanel-browser sends XHRs with credentials: echo the origin, never `*`.
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
  }
  if (req.method !== 'OPTIONS') return false;
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '*');
  res.writeHead(204).end();
  return true;
}
