const sdk = require('@optimizely/optimizely-sdk/node');
require('./decide.cjs').run(sdk);
