import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const datafile = readFileSync(new URL('../../../../shared/fixtures/datafile.json', import.meta.url), 'utf8');
const { OptimizelyMixpanelInstrumentation } = require('../dist/index.js');
const instrumentation = new OptimizelyMixpanelInstrumentation({
  token: 'bench-token',
  apiHost: 'http://127.0.0.1:9',
  enabled: false,
});
const sdk = require('optimizely-sdk-v6');
const create = () => sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });
const plain = create();
instrumentation.enable();
const instrumented = create();
if (!instrumentation.instrumentClient(instrumented)) throw new Error('x');
function rate(client, users, ops) {
  const contexts = users.map((id) => client.createUserContext(id));
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) contexts[i % contexts.length].decide('checkout_redesign');
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}
const returning = Array.from({ length: 1000 }, (_, i) => `returning-${i}`);
rate(plain, returning, 20_000);
rate(instrumented, returning, 20_000);
for (let r = 0; r < 5; r++)
  console.log(Math.round(rate(plain, returning, 200_000)), Math.round(rate(instrumented, returning, 200_000)));
process.exit(0);
