import * as sdk from '@optimizely/optimizely-sdk';
import { createInstance } from '@optimizely/optimizely-sdk';
import app from './decide.cjs';

// The named import is what most ESM code writes: it must be the instrumented createInstance.
app.run({ ...sdk, createInstance });
