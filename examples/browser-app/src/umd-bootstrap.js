// The script-tag route: the SDK is window.optimizelySdk; enable() patches it in place.
import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
import { runApp } from './app.js';
import { initMixpanel } from './mixpanel-setup.js';

const mixpanel = initMixpanel();
enableOptimizelyMixpanel({ mixpanel });
runApp(window.optimizelySdk, mixpanel);
