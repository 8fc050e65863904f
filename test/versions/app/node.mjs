import * as sdk from '@optimizely/optimizely-sdk/node';
import { createInstance } from '@optimizely/optimizely-sdk/node';
import app from './decide.cjs';

app.run({ ...sdk, createInstance });
