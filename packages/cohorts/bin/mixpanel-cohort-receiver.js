#!/usr/bin/env node
// A committed entry point, so the bin link exists from the first install; the CLI itself is build output.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error(
    `mixpanel-cohort-receiver is not built (${cli} is missing): run \`pnpm build\` at the repository root.`,
  );
  process.exit(1);
}
require(cli);
