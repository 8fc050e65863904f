// The application: decides flags and tracks a conversion. It knows nothing of the integration.
import datafile from './datafile.json?raw';

const params = new URLSearchParams(location.search);

export function runApp(sdk, mixpanel) {
  const client = sdk.createStaticProjectConfigManager
    ? sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) })
    : sdk.createInstance({
        datafile,
        logLevel: 'critical',
        eventDispatcher: { dispatchEvent: (_e, cb) => cb?.({ statusCode: 204 }) },
        odpOptions: { disabled: true },
      });
  // No user id of the app's own: Optimizely decides for Mixpanel's distinct_id.
  const userId = params.get('user') ?? mixpanel.get_distinct_id();
  const user = client.createUserContext(userId);
  const force = params.get('force');
  // A forced variation for the experiment rule (QA links): the decision changes, the rule stays.
  if (force)
    user.setForcedDecision({ flagKey: 'checkout_redesign', ruleKey: 'checkout_redesign_ab' }, { variationKey: force });
  let decision;
  for (let render = 0; render < 3; render++) decision = user.decide('checkout_redesign');
  const status = document.getElementById('status');
  status.textContent = `variation=${decision.variationKey}`;
  status.dataset.variation = decision.variationKey;
  window.app = {
    purchase: () => mixpanel.track('Purchase', { amount: 42 }),
    decideAgain: () => user.decide('checkout_redesign').variationKey,
  };
}
