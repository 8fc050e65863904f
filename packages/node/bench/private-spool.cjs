// Imported first by the benchmarks that run the exporter: its spool (on by default) goes to a temp
// folder of the run's own, inherited by the benchmark processes and removed at exit, not to the
// user's state directory.
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

if (!process.env.OPTIMIZELY_MIXPANEL_SPOOL_DIR) {
  const dir = mkdtempSync(join(tmpdir(), 'optimizely-mixpanel-bench-'));
  process.env.OPTIMIZELY_MIXPANEL_SPOOL_DIR = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}
