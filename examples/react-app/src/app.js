// The application: React components on @optimizely/react-sdk. It knows nothing of the integration.
import { createInstance, OptimizelyProvider, useDecision } from '@optimizely/react-sdk';
import { createElement as h, useState } from 'react';

/** The React SDK client from a datafile; no impressions or ODP calls leave the process here. */
export function createClient(datafile) {
  return createInstance({
    datafile,
    logLevel: 'error',
    eventDispatcher: { dispatchEvent: (_event, callback) => callback?.({ statusCode: 204 }) },
    odpOptions: { disabled: true },
  });
}

function Checkout() {
  const [decision] = useDecision('checkout_redesign');
  const variation = decision.variationKey ?? '';
  return h('p', { id: 'status', 'data-variation': variation }, `variation=${variation}`);
}

function App({ onPurchase }) {
  const [renders, setRenders] = useState(0);
  return h(
    'main',
    null,
    // A new key remounts the component: each render decides again, as a page switching views would.
    h(Checkout, { key: renders }),
    h(
      'button',
      { type: 'button', id: 'rerender', 'data-renders': renders, onClick: () => setRenders(renders + 1) },
      'Re-render',
    ),
    h('button', { type: 'button', id: 'buy', onClick: onPurchase }, 'Buy'),
  );
}

/** `serverSide`: decide synchronously while rendering on the server. */
export function Root({ client, userId, onPurchase, serverSide = false }) {
  return h(
    OptimizelyProvider,
    { optimizely: client, user: { id: userId }, isServerSide: serverSide },
    h(App, { onPurchase }),
  );
}
