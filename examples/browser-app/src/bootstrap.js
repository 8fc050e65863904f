// The bundled route: the build plugin routes this import through the instrumented re-export.

import * as sdk from '@optimizely/optimizely-sdk';
import { enableOptimizelyMixpanel, stats } from '@optimizely-mixpanel/browser';
import { allowAttributes } from '@optimizely-mixpanel/browser/attributes';
import { eventFormat } from '@optimizely-mixpanel/browser/event-format';
import { exposureHook } from '@optimizely-mixpanel/browser/hook';
import { tracing } from '@optimizely-mixpanel/browser/trace';
import { runApp } from './app.js';
import { initMixpanel } from './mixpanel-setup.js';
import { startTracing } from './tracing.js';

const mixpanel = initMixpanel();
const params = new URLSearchParams(location.search);
// Test pages pass these choices in the URL; an app writes its own here.
const trace = params.get('trace') === '1' ? startTracing() : undefined;
const hooks = {
  // Every exposure event says which build of the page sent it.
  tag: exposureHook((exposure) => {
    for (const event of exposure.events) event.properties.page_build = 'checkout-v2';
  }),
  // Internal QA users are not experiment subjects.
  drop: exposureHook((exposure) => !exposure.distinctId.startsWith('qa-')),
};
enableOptimizelyMixpanel({
  mixpanel,
  identity: params.get('identity') ?? 'identify',
  // Exposure events carry trace_id and spans get evaluation events, unless switched off; rawTrace=1
  // passes the API's trace itself, a mistake the tests show is counted, not thrown into the app.
  tracing:
    trace && params.get('rawTrace') === '1'
      ? trace
      : trace
        ? tracing(trace, { spanEvents: params.get('spanEvents') !== '0', traceIds: params.get('traceIds') !== '0' })
        : undefined,
  exposureHook: hooks[params.get('hook')],
  attributes: params.get('attributes') === '1' ? allowAttributes(['plan']) : undefined,
  // rawFormat passes a string, the option's earlier form: the default format applies.
  eventFormat: params.get('format') ? eventFormat(params.get('format')) : (params.get('rawFormat') ?? undefined),
});
runApp(sdk, mixpanel, trace?.getTracer('app'));
// Read by the tests: exposures sent and decisions skipped on this page.
window.optimizelyMixpanelStats = stats;
