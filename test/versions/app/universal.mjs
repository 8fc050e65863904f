// 6.x only: the /universal entry is a file of its own, reached by a hook on that file.
import * as sdk from '@optimizely/optimizely-sdk/universal';
import { createInstance } from '@optimizely/optimizely-sdk/universal';
import app from './decide.cjs';

app.run({ ...sdk, createInstance });
