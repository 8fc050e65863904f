// The same page for a build with no plugin: the React client's SDK client (`.client`) is instrumented by hand.
import { enableOptimizelyMixpanel, instrumentClient, stats } from '@optimizely-mixpanel/browser';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient, Root } from './app.js';
import datafile from './datafile.json';
import { initMixpanel } from './mixpanel-setup.js';

const mixpanel = initMixpanel();
enableOptimizelyMixpanel({ mixpanel });

const client = createClient(datafile);
instrumentClient(client.client);
const userId = new URLSearchParams(location.search).get('user') ?? mixpanel.get_distinct_id();
createRoot(document.getElementById('root')).render(
  createElement(Root, { client, userId, onPurchase: () => mixpanel.track('Purchase', { amount: 42 }) }),
);
window.optimizelyMixpanelStats = stats;
