#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_OPTIONS, USAGE } from './cli-options.js';
import { formatEvent, formatProfileUpdate, formatTable } from './format.js';
import { LocalMixpanelServer } from './server.js';

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
  if (values.fault) {
    try {
      server.injectFault(values.fault, { times: Number.POSITIVE_INFINITY });
    } catch (error) {
      console.error(`invalid --fault: ${(error as Error).message}`);
      process.exit(2);
    }
  }
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
  return parseArgs({ options: CLI_OPTIONS });
}

main();
