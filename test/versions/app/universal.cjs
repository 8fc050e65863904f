// 6.x only: the /universal entry is a file of its own, reached by a hook on that file.
const sdk = require('@optimizely/optimizely-sdk/universal');
require('./decide.cjs').run(sdk);
