/**
 * `@optimizely/optimizely-sdk` with an instrumented `createInstance`. The build
 * plugin routes the application's imports of the SDK here, so application code
 * keeps `import { createInstance } from '@optimizely/optimizely-sdk'` unchanged.
 * It imports the SDK's `/browser` subpath, which the plugin does not redirect.
 */
import * as sdk from '@optimizely/optimizely-sdk/browser';
import { wrapCreateInstance } from './instrumentation.js';

export * from '@optimizely/optimizely-sdk/browser';

type CreateInstance = (...args: unknown[]) => unknown;

/** The SDK's `createInstance`, with the DECISION listener added before the client is returned. */
export const createInstance = wrapCreateInstance(
  (sdk as unknown as { createInstance: CreateInstance }).createInstance,
) as typeof sdk.createInstance;
