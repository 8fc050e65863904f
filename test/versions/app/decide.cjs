// What a service on any supported SDK version does first: create a client on a static datafile and
// decide right away. It knows nothing of Mixpanel; the preload must deliver the exposure.
const { readFileSync } = require('node:fs');

function createClient(sdk) {
  const datafile = readFileSync(process.env.DATAFILE, 'utf8');
  if (typeof sdk.createStaticProjectConfigManager === 'function') {
    return sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });
  }
  // 5.x: no network at all (no event dispatch, no ODP).
  return sdk.createInstance({
    datafile,
    logLevel: 'critical',
    eventDispatcher: { dispatchEvent: (_event, callback) => callback?.({ statusCode: 204 }) },
    odpOptions: { disabled: true },
  });
}

function run(sdk) {
  const client = createClient(sdk);
  const userId = process.env.USER_ID ?? 'user-123';
  const decision = client.createUserContext(userId).decide('checkout_redesign');
  console.log(`${userId} checkout_redesign=${decision.variationKey} rule=${decision.ruleKey}`);
  client.close();
}

module.exports = { run };
