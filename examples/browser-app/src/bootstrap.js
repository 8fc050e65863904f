// The bundled route: the build plugin routes this import through the instrumented re-export.

import * as sdk from '@optimizely/optimizely-sdk';
import { enableOptimizelyMixpanel, stats } from '@optimizely-mixpanel/browser';
import { evaluationEvents } from '@optimizely-mixpanel/browser/trace';
import { runApp } from './app.js';
import { initMixpanel } from './mixpanel-setup.js';
import { startTracing } from './tracing.js';

const mixpanel = initMixpanel();
const params = new URLSearchParams(location.search);
// Test pages pass these choices in the URL; an app writes its own here.
const trace = params.get('trace') === '1' ? startTracing() : undefined;
enableOptimizelyMixpanel({ mixpanel, identity: params.get('identity') ?? 'identify', trace, evaluationEvents });
runApp(sdk, mixpanel, trace?.getTracer('app'));
// Read by the tests: exposures sent and decisions skipped on this page.
window.optimizelyMixpanelStats = stats;
