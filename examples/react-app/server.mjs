// Server rendering, with the Node instrumentation as a preload (after `vite build`):
//   MIXPANEL_TOKEN=... node --require @optimizely-mixpanel/node/register server.mjs
// The server's decide() and the hydrated page's decide() send the same exposure, which Mixpanel keeps once.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { createClient, Root } from './src/app.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = resolve(here, process.env.DIST ?? 'dist');
const template = readFileSync(join(dist, 'index.html'), 'utf8');
const datafile = JSON.parse(readFileSync(join(here, 'src/datafile.json'), 'utf8'));
// One React SDK client per process, as server-rendering apps keep it.
const client = createClient(datafile);
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname.startsWith('/assets/')) {
    const file = resolve(dist, `.${decodeURIComponent(url.pathname)}`);
    if (!file.startsWith(dist + sep)) return res.writeHead(404).end();
    try {
      const body = readFileSync(file);
      return res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      return res.writeHead(404).end();
    }
  }
  const userId = url.searchParams.get('user') ?? 'user-123';
  const markup = renderToString(createElement(Root, { client, userId, serverSide: true }));
  const page = template.replace(
    '<div id="root"></div>',
    `<div id="root" data-user="${escapeHtml(userId)}">${markup}</div>`,
  );
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`server-rendered app on http://127.0.0.1:${server.address().port}/`);
});
