import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ControlledServer, handleControl } from './control.js';
import { handleCors } from './cors.js';
import { reply } from './http.js';
import { handleIngest, type IngestServer } from './ingest.js';
import { serveStatic } from './static-files.js';

/** Where a request goes: CORS preflight, ingestion, the control API, static files, or 404. */
export async function route(
  req: IncomingMessage,
  res: ServerResponse,
  server: IngestServer & ControlledServer & { readonly staticDir?: string | undefined },
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (handleCors(req, res)) return;
  if (path === '/track' || path === '/import' || path === '/engage') return handleIngest(path, url, req, res, server);
  if (path.startsWith('/_local/')) return handleControl(path, url, req, res, server);
  if (req.method === 'GET' && server.staticDir) return serveStatic(server.staticDir, url.pathname, res);
  reply(res, 404, 'text/plain', 'not found');
}
