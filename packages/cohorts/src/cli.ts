/**
 * `mixpanel-cohort-receiver --port N --store <file path | redis URL> [--auth user:password]`:
 * the cohort webhook receiver as a standalone server. With `--port 0` the first
 * line of stdout is the URL it listens on.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { describeLocation, openCohortStore } from './open-store.js';
import { createCohortReceiver, DEFAULT_MAX_BODY_BYTES } from './receiver.js';
import { RedisCohortStore } from './redis-store.js';

const HELP = `Usage: mixpanel-cohort-receiver --port N --store <file path | redis URL> [options]

Receives Mixpanel's cohort Custom Webhook and keeps cohort membership in a store
that the Optimizely instrumentation reads (OPTIMIZELY_MIXPANEL_COHORTS).

Options:
  --port N              port to listen on (0: any free port; the URL is printed first)
  --host ADDR           address to listen on (default 127.0.0.1; 0.0.0.0 behind your TLS proxy)
  --store LOCATION      a file path (one JSON file, written atomically) or redis://host:port
  --auth USER:PASSWORD  Basic auth Mixpanel must send (or MIXPANEL_COHORT_RECEIVER_AUTH);
                        required beyond loopback unless --no-auth
  --max-body-bytes N    larger requests get 413 (default ${DEFAULT_MAX_BODY_BYTES})
  --help                this text
`;

function fail(message: string): never {
  process.stderr.write(`mixpanel-cohort-receiver: ${message}\n\n${HELP}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        store: { type: 'string' },
        auth: { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'no-auth': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = Number(values.port);
  if (values.port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be 0-65535');
  const location = values.store as string | undefined;
  if (!location) fail('--store is required');
  const maxBody = values['max-body-bytes'] === undefined ? DEFAULT_MAX_BODY_BYTES : Number(values['max-body-bytes']);
  if (!Number.isInteger(maxBody) || maxBody < 1) fail('--max-body-bytes must be a positive integer');
  const auth = (values.auth as string | undefined) ?? process.env.MIXPANEL_COHORT_RECEIVER_AUTH;
  if (auth !== undefined && (!auth.includes(':') || auth.startsWith(':'))) fail('--auth must be user:password');
  const host = values.host as string;
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  if (!auth && !loopback && !values['no-auth']) {
    fail(`--auth is required when listening on ${host} (or --no-auth to accept anyone's cohorts)`);
  }

  let lastError = 0;
  const store = openCohortStore(location, {
    onError: (error) => {
      if (Date.now() - lastError < 10_000) return; // one line per 10 s while Redis is down
      lastError = Date.now();
      process.stderr.write(`mixpanel-cohort-receiver: store: ${error.message}\n`);
    },
  });
  if (store instanceof RedisCohortStore) {
    try {
      await store.ready(5000);
    } catch (error) {
      process.stderr.write(`mixpanel-cohort-receiver: ${describeLocation(location)}: ${(error as Error).message}\n`);
      await store.close().catch(() => {});
      process.exit(1);
    }
  }
  const handler = createCohortReceiver({
    store,
    ...(auth ? { auth } : {}),
    maxBodyBytes: maxBody,
    onRequest: (event) => {
      const what = event.result
        ? `${event.result.outcome}${event.result.count === undefined ? '' : ` (${event.result.count} members)`}`
        : event.error;
      process.stderr.write(`${event.status} ${event.action ?? '-'} cohort=${event.cohortId ?? '-'} ${what ?? ''}\n`);
    },
  });
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url === '/healthz')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    handler(req, res);
  });
  server.requestTimeout = 60_000;
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch((error: Error) => {
    process.stderr.write(`mixpanel-cohort-receiver: cannot listen on ${host}:${port}: ${error.message}\n`);
    process.exit(1);
  });
  const address = server.address() as { port: number };
  const shown = host.includes(':') ? `[${host}]` : host;
  process.stdout.write(`http://${shown}:${address.port}/\n`);
  process.stderr.write(
    `store: ${describeLocation(location)}${auth ? '' : ' (no auth: use --auth when Mixpanel reaches it over the internet)'}\n`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeIdleConnections();
    store
      .close()
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`mixpanel-cohort-receiver: ${String(error)}\n`);
  process.exit(1);
});
