import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { reply } from './http.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Serves a file of `dir` for a GET path (`/` is `index.html`); nothing outside `dir`. */
export async function serveStatic(dir: string, pathname: string, res: ServerResponse): Promise<void> {
  const root = normalize(dir);
  let relative: string;
  try {
    relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return reply(res, 400, 'text/plain', 'bad path');
  }
  const file = normalize(join(root, relative));
  if (!file.startsWith(root + sep) && file !== root) return reply(res, 403, 'text/plain', 'forbidden');
  try {
    const content = await readFile(file);
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(content);
  } catch {
    reply(res, 404, 'text/plain', 'not found');
  }
}
