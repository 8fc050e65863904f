// The bundled route: the build plugin routes this import through the instrumented re-export.

import * as sdk from '@optimizely/optimizely-sdk';
import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
import { runApp } from './app.js';
import { initMixpanel } from './mixpanel-setup.js';

const mixpanel = initMixpanel();
// Test pages pass the identity policy in the URL; an app writes its choice here.
enableOptimizelyMixpanel({ mixpanel, identity: new URLSearchParams(location.search).get('identity') ?? 'identify' });
runApp(sdk, mixpanel);
