// The page's bootstrap: mixpanel-browser, the integration, then the app as it is.
import { enableOptimizelyMixpanel, stats } from '@optimizely-mixpanel/browser';
import { createElement } from 'react';
import { createRoot, hydrateRoot } from 'react-dom/client';
import { createClient, Root } from './app.js';
import datafile from './datafile.json';
import { initMixpanel } from './mixpanel-setup.js';

const mixpanel = initMixpanel();
enableOptimizelyMixpanel({ mixpanel });

const params = new URLSearchParams(location.search);
const container = document.getElementById('root');
// A server-rendered page says whom it rendered for; otherwise the URL does.
const userId = container.dataset.user ?? params.get('user') ?? mixpanel.get_distinct_id();
const root = createElement(Root, {
  client: createClient(datafile),
  userId,
  onPurchase: () => mixpanel.track('Purchase', { amount: 42 }),
});
if (container.hasChildNodes()) hydrateRoot(container, root);
else createRoot(container).render(root);
// Read by the tests: exposures sent and decisions skipped on this page.
window.optimizelyMixpanelStats = stats;
