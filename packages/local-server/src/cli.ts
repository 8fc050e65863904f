#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatEvent, formatProfileUpdate, formatTable } from './format.js';
import { LocalMixpanelServer } from './server.js';

const USAGE = `Usage: mixpanel-local-server [--port 8080] [--host 127.0.0.1] [--token TOKEN] [--static DIR] [--quiet]

A local stand-in for Mixpanel's ingestion API (/track, /import, /engage). Point an integration at it
(e.g. MIXPANEL_API_HOST=http://127.0.0.1:8080) and watch the events and profile updates it would send.
Ctrl-C prints a summary table. Read back as JSON: GET /_local/events, /_local/profiles, /_local/summary.

  --port    port to listen on (default 8080; 0 picks a free one)
  --host    interface (default 127.0.0.1)
  --token   only accept records carrying this project token
  --fault   play a fault on every request: 429, 429:retry-after=2, 500, hang, reset, delay=MS
  --static  also serve the files of this folder (a page and its Mixpanel API on one origin)
  --quiet   do not print records as they arrive`;

function main(): void {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid --port ${values.port}`);
    process.exit(2);
  }
  const quiet = values.quiet === true;
  const server = new LocalMixpanelServer({
    port,
    host: values.host ?? '127.0.0.1',
    ...(values.token ? { token: values.token } : {}),
    ...(values.static ? { staticDir: resolve(values.static) } : {}),
    onRecord: (record) => {
      if (quiet) return;
      console.log(record.type === 'event' ? formatEvent(record.event) : formatProfileUpdate(record.update));
    },
  });
  if (values.fault) server.injectFault(values.fault, { times: Number.POSITIVE_INFINITY });
  server.start().then(
    (url) => console.log(`Mixpanel-compatible server listening on ${url}`),
    (error: Error) => {
      console.error(`cannot listen: ${error.message}`);
      process.exit(1);
    },
  );
  const stop = () => {
    console.log(`\n${formatTable(server)}`);
    server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function parse() {
  return parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      token: { type: 'string' },
      fault: { type: 'string' },
      static: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

main();
