// Decides for a few seconds under the preload, for a CPU profile: `returning` users (every decision
// a duplicate) or `fresh` users (every decision a first exposure, delivered to MIXPANEL_API_HOST).
'use strict';
const sdk = require(process.env.BENCH_SDK === '5' ? 'optimizely-sdk-v5' : 'optimizely-sdk-v6');
const { createClient } = require('./sdk-client.cjs');

const kind = process.argv[2] ?? 'fresh';
const seconds = Number(process.argv[3]) || 4;
const client = createClient(sdk);
const returning = Array.from({ length: 2000 }, (_, i) => client.createUserContext(`returning-${i}`));
let next = 0;

async function main() {
  for (const user of returning) user.decide('checkout_redesign');
  // The profile is read from here on: loading and warm-up are left out.
  process.stdout.write(`measured from ${process.hrtime.bigint() / 1000n}\n`);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const users =
      kind === 'returning' ? returning : Array.from({ length: 2000 }, () => client.createUserContext(`new-${next++}`));
    for (const user of users) user.decide('checkout_redesign');
    // Idle between bursts, as between requests: the exporter sends (idle time is not in the profile).
    await new Promise((resolve) => setTimeout(resolve, kind === 'returning' ? 0 : 50));
  }
}
main();
