// The application: decides flags and tracks a conversion. It knows nothing of the integration.
import datafile from './datafile.json?raw';

const params = new URLSearchParams(location.search);

export function runApp(sdk, mixpanel, tracer) {
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
  // Attributes reach Mixpanel only when allowlisted (bootstrap.js).
  const user = client.createUserContext(userId, { plan: params.get('plan') ?? 'free' });
  const force = params.get('force');
  // A forced variation for the experiment rule (QA links): the decision changes, the rule stays.
  if (force)
    user.setForcedDecision({ flagKey: 'checkout_redesign', ruleKey: 'checkout_redesign_ab' }, { variationKey: force });
  let decision;
  const render = () => {
    for (let i = 0; i < 3; i++) decision = user.decide('checkout_redesign');
  };
  // With tracing on, the renders happen inside a span, as an instrumented event handler's would.
  if (tracer) {
    tracer.startActiveSpan('render checkout', (span) => {
      render();
      span.end();
    });
  } else render();
  const status = document.getElementById('status');
  status.textContent = `variation=${decision.variationKey}`;
  status.dataset.variation = decision.variationKey;
  window.app = {
    purchase: () => mixpanel.track('Purchase', { amount: 42 }),
    decideAgain: () => user.decide('checkout_redesign').variationKey,
    // Decides a flag inside a span of its own when tracing is on.
    decideInSpan: (flagKey) =>
      tracer
        ? tracer.startActiveSpan(`decide ${flagKey}`, (span) => {
            const variation = user.decide(flagKey).variationKey;
            span.end();
            return variation;
          })
        : user.decide(flagKey).variationKey,
  };
}
