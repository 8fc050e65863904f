/**
 * The preload: `node --require @optimizely-mixpanel/node/register app.js` (CommonJS)
 * or `node --import @optimizely-mixpanel/node/register app.mjs` (ESM).
 *
 * Enables the instrumentation before the application loads the SDK, registers
 * the ESM loader hook itself, starts a NodeSDK from the standard OTEL_*
 * variables when they ask for an exporter (or joins the tracer provider the
 * application registers), and flushes on SIGTERM, SIGINT and beforeExit within
 * a deadline; at exit what is left goes to the spool (see lifecycle.ts). Under
 * AWS Lambda it wraps the `_HANDLER` handler (see lambda.ts). Whatever fails
 * here is logged and the application runs unchanged.
 */
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { DiagConsoleLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { type InstrumentationBase, registerInstrumentations } from '@opentelemetry/instrumentation';
import { redactMixpanelSpanUrl } from './http-redaction.js';
import { OptimizelyMixpanelInstrumentation } from './instrumentation.js';
import { isLambda, LambdaHandlerInstrumentation, resolveHandler } from './lambda.js';
import { setSdk, track } from './lifecycle.js';
import { MixpanelInstrumentation } from './mixpanel-instrumentation.js';
import { PACKAGE_NAME } from './version.js';

const SDK_SPECIFIERS = [
  '@optimizely/optimizely-sdk',
  '@optimizely/optimizely-sdk/node',
  '@optimizely/optimizely-sdk/universal',
  'mixpanel',
];

interface StartedSdk {
  shutdown(): Promise<void>;
}

function logLevel(): DiagLogLevel {
  const value = process.env.OTEL_LOG_LEVEL?.toUpperCase();
  const level = value ? DiagLogLevel[value as keyof typeof DiagLogLevel] : undefined;
  return typeof level === 'number' ? level : DiagLogLevel.WARN;
}

/** ESM interception needs a loader hook; `--import @opentelemetry/instrumentation/hook.mjs` alone registers nothing. */
function registerEsmHook(): void {
  const register = (nodeModule as { register?: (specifier: string, parent: URL, options?: object) => void }).register;
  if (typeof register !== 'function') {
    diag.warn(
      `${PACKAGE_NAME}: this Node has no module.register (needs >= 20.6): ESM imports of the SDK are not instrumented`,
    );
    return;
  }
  // Only the SDK's modules (and a Lambda's handler file) are wrapped; every other import loads untouched.
  const include: Array<string | RegExp> = [...SDK_SPECIFIERS, /[\\/]@optimizely[\\/]optimizely-sdk[\\/]/];
  const { LAMBDA_TASK_ROOT, _HANDLER } = process.env;
  if (LAMBDA_TASK_ROOT && _HANDLER)
    include.push(pathToFileURL(resolveHandler(LAMBDA_TASK_ROOT, _HANDLER).filename).href);
  register('@opentelemetry/instrumentation/hook.mjs', pathToFileURL(__filename), { data: { include } });
}

function wantsSdk(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(exporter || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Loads the SDK and the HTTP instrumentation before any instrumentation is
 * constructed: the first one installs the shared require hook, and a module
 * that passed through that hook before an instrumentation asked for it (the
 * SDK's exporters load `http`) is not offered to it again.
 */
function loadSdk(): { NodeSDK: typeof import('@opentelemetry/sdk-node').NodeSDK; http: InstrumentationBase } {
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  // The app's own Mixpanel GETs carry the token in `data=`: their spans get a redacted URL.
  return { NodeSDK, http: new HttpInstrumentation({ startOutgoingSpanHook: redactMixpanelSpanUrl }) };
}

function start(): void {
  // Node also runs --import preloads in its loader-hooks thread: there is nothing to instrument there.
  if (!isMainThread) return;
  const env = process.env;
  const startSdkNow = wantsSdk(env);
  // NodeSDK sets its own diag logger when OTEL_LOG_LEVEL is set.
  if (!(startSdkNow && env.OTEL_LOG_LEVEL))
    diag.setLogger(new DiagConsoleLogger(), { logLevel: logLevel(), suppressOverrideMessage: true });
  if (env.OPTIMIZELY_MIXPANEL_ENABLED?.toLowerCase() === 'false') return;
  try {
    registerEsmHook();
  } catch (error) {
    diag.warn(`${PACKAGE_NAME}: ESM loader hook not registered: ${String(error)}`);
  }
  // Loaded only when asked for: applications with their own SDK never pay for it.
  let loaded: ReturnType<typeof loadSdk> | undefined;
  try {
    loaded = startSdkNow ? loadSdk() : undefined;
  } catch (error) {
    diag.error(`${PACKAGE_NAME}: OpenTelemetry SDK not started: ${String(error)}`);
  }
  let instrumentation: OptimizelyMixpanelInstrumentation;
  let mixpanel: MixpanelInstrumentation[] = [];
  try {
    instrumentation = new OptimizelyMixpanelInstrumentation();
  } catch (error) {
    diag.error(`${PACKAGE_NAME} is disabled: ${(error as Error).message}`);
    return;
  }
  try {
    mixpanel = [new MixpanelInstrumentation()];
  } catch (error) {
    diag.error(`${PACKAGE_NAME}: the app's mixpanel client is not instrumented: ${String(error)}`);
  }
  let sdk: StartedSdk | undefined;
  if (loaded) {
    try {
      const started = new loaded.NodeSDK({ instrumentations: [loaded.http, instrumentation, ...mixpanel] });
      started.start();
      sdk = started;
    } catch (error) {
      diag.error(`${PACKAGE_NAME}: OpenTelemetry SDK not started: ${String(error)}`);
    }
  }
  if (!sdk) registerInstrumentations({ instrumentations: [instrumentation, ...mixpanel] });
  setSdk(sdk);
  track(instrumentation);
  if (isLambda(env)) {
    try {
      registerInstrumentations({ instrumentations: [new LambdaHandlerInstrumentation()] });
    } catch (error) {
      diag.error(`${PACKAGE_NAME}: the Lambda handler is not wrapped: ${String(error)}`);
    }
  }
}

try {
  start();
} catch (error) {
  // A preload must never take the application down.
  diag.error(`${PACKAGE_NAME} failed to start; the application runs without it: ${String(error)}`);
}
