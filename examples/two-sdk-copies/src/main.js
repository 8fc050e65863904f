// Two clients from two SDK copies: this app's own 6.x, and the 5.x that @optimizely/react-sdk depends on.

import { createInstance, createStaticProjectConfigManager } from '@optimizely/optimizely-sdk';
import { createInstance as createReactClient, OptimizelyProvider, useDecision } from '@optimizely/react-sdk';
import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import datafile from './datafile.json';
import { initMixpanel } from './mixpanel-setup.js';

const mixpanel = initMixpanel();
enableOptimizelyMixpanel({ mixpanel });
const userId = new URLSearchParams(location.search).get('user') ?? mixpanel.get_distinct_id();

// The 6.x client: no event processor, so no impressions leave the page.
const direct = createInstance({
  projectConfigManager: createStaticProjectConfigManager({ datafile: JSON.stringify(datafile) }),
});
const banner = direct.createUserContext(userId).decide('premium_banner');
const bannerElement = document.getElementById('banner');
bannerElement.textContent = `banner=${banner.variationKey}`;
bannerElement.dataset.variation = banner.variationKey;

// The 5.x client, created inside the React SDK.
const reactClient = createReactClient({
  datafile,
  logLevel: 'error',
  eventDispatcher: { dispatchEvent: (_event, callback) => callback?.({ statusCode: 204 }) },
  odpOptions: { disabled: true },
});

function Checkout() {
  const [decision] = useDecision('checkout_redesign');
  const variation = decision.variationKey ?? '';
  return h('p', { id: 'status', 'data-variation': variation }, `variation=${variation}`);
}

createRoot(document.getElementById('root')).render(
  h(OptimizelyProvider, { optimizely: reactClient, user: { id: userId } }, h(Checkout)),
);
