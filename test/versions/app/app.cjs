const sdk = require('@optimizely/optimizely-sdk');
require('./decide.cjs').run(sdk);
