// The client the benchmark processes decide with: the test datafile, nothing sent to Optimizely.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const datafile = readFileSync(join(__dirname, '../../../test/fixtures/datafile.json'), 'utf8');

/** A client of `sdk` (5.x or 6.x) made by `createInstance` (the SDK's own, or its unwrapped original). */
function createClient(sdk, createInstance = sdk.createInstance) {
  if (typeof sdk.createStaticProjectConfigManager === 'function') {
    return createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });
  }
  return createInstance({
    datafile,
    logLevel: 'error',
    // No impression is dispatched anywhere: 5.x would otherwise post to Optimizely.
    eventDispatcher: { dispatchEvent: (_event, callback) => callback?.({ statusCode: 204 }) },
    odpOptions: { disabled: true },
  });
}

module.exports = { createClient };
