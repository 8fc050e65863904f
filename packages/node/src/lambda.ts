/**
 * AWS Lambda freezes the process as soon as an invocation completes:
 * `beforeExit` never fires and timers stop. This instrumentation wraps the
 * handler named by `_HANDLER` (as `@opentelemetry/instrumentation-aws-lambda`
 * does) so that, before each invocation completes, queued exposures are
 * delivered within a deadline that respects the invocation's remaining time,
 * and what is still pending then is written to the spool under `/tmp`, which
 * the next invocation replays.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { flushAll, persistAllSync, withDeadline } from './lifecycle.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/** Time kept for the runtime to send the response after the flush gives up. */
const SAFETY_MARGIN_MS = 500;

/** Configuration of {@link LambdaHandlerInstrumentation}. */
export interface LambdaHandlerInstrumentationConfig extends InstrumentationConfig {
  /** Longest wait for delivery per invocation (`OPTIMIZELY_MIXPANEL_LAMBDA_FLUSH_TIMEOUT_MS`, default 2000). */
  flushTimeoutMs?: number;
}

interface LambdaContext {
  getRemainingTimeInMillis?: () => number;
}
type Callback = (error?: unknown, result?: unknown) => void;
type Handler = (this: unknown, event: unknown, context: LambdaContext, callback?: Callback) => unknown;

/** True under the AWS Lambda Node.js runtime (or an emulation of it). */
export function isLambda(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.LAMBDA_TASK_ROOT && env._HANDLER);
}

/** The handler's file and export, resolved as the Lambda Node.js runtime resolves `_HANDLER`. */
export function resolveHandler(
  taskRoot: string,
  handlerDef: string,
): { filename: string; module: string; functionName: string } {
  const handler = path.basename(handlerDef);
  const moduleRoot = handlerDef.slice(0, handlerDef.length - handler.length);
  const dot = handler.indexOf('.');
  const module = dot < 0 ? handler : handler.slice(0, dot);
  const functionName = dot < 0 ? 'handler' : handler.slice(dot + 1);
  const base = path.resolve(taskRoot, moduleRoot, module);
  let filename = base;
  for (const extension of ['.js', '.mjs', '.cjs']) {
    if (fs.existsSync(base + extension)) {
      filename = base + extension;
      break;
    }
  }
  return { filename, module, functionName };
}

/**
 * Wraps the Lambda handler so that exposures are delivered (or spooled to
 * `/tmp`) before each invocation completes. Async and callback handlers.
 * Registered by the preload when it detects Lambda.
 */
export class LambdaHandlerInstrumentation extends InstrumentationBase<LambdaHandlerInstrumentationConfig> {
  constructor(config: LambdaHandlerInstrumentationConfig = {}) {
    super(`${PACKAGE_NAME}/lambda`, PACKAGE_VERSION, config);
  }

  protected init() {
    const taskRoot = process.env.LAMBDA_TASK_ROOT;
    const handlerDef = process.env._HANDLER;
    if (!taskRoot || !handlerDef) return [];
    const { filename, module, functionName } = resolveHandler(taskRoot, handlerDef);
    const patch = (exports: Record<string, unknown>) => {
      if (!exports || typeof exports[functionName] !== 'function') return exports;
      if (isWrapped(exports[functionName])) this._unwrap(exports, functionName);
      this._wrap(exports, functionName, ((original: Handler) => this.wrapHandler(original)) as never);
      return exports;
    };
    const unpatch = (exports?: Record<string, unknown>) => {
      if (exports && isWrapped(exports[functionName])) this._unwrap(exports, functionName);
    };
    // An absolute path is matched as the module, its file by the module's base name (as contrib does).
    return [
      new InstrumentationNodeModuleDefinition(filename, ['*'], undefined, undefined, [
        new InstrumentationNodeModuleFile(module, ['*'], patch, unpatch),
      ]),
    ];
  }

  /** Wraps one handler function. Public for handlers loaded some other way (e.g. bundled). */
  wrapHandler(original: Handler): Handler {
    const instrumentation = this;
    return function handler(this: unknown, event: unknown, context: LambdaContext, callback?: Callback) {
      let settled = false;
      const settle = () => {
        if (settled) return Promise.resolve();
        settled = true;
        return instrumentation.settle(context);
      };
      const wrappedCallback: Callback | undefined =
        typeof callback === 'function'
          ? (error, result) => {
              void settle().finally(() => callback(error, result));
            }
          : undefined;
      let result: unknown;
      try {
        result = original.call(this, event, context, wrappedCallback);
      } catch (error) {
        // Thrown synchronously: only synchronous work is sure to happen before the runtime reports it.
        instrumentation.persistNow();
        throw error;
      }
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return (result as Promise<unknown>).then(
          (value) => settle().then(() => value),
          (error) => settle().then(() => Promise.reject(error)),
        );
      }
      return result;
    };
  }

  /** Delivers within the invocation's budget; writes what is left to the spool. Never rejects. */
  private async settle(context: LambdaContext): Promise<void> {
    try {
      const configured =
        this.getConfig().flushTimeoutMs ?? (Number(process.env.OPTIMIZELY_MIXPANEL_LAMBDA_FLUSH_TIMEOUT_MS) || 2000);
      let budget = configured;
      const remaining = context?.getRemainingTimeInMillis?.();
      if (typeof remaining === 'number' && Number.isFinite(remaining)) {
        budget = Math.min(budget, remaining - SAFETY_MARGIN_MS);
      }
      const done = budget > 0 ? await withDeadline(flushAll(), budget) : false;
      if (!done) this.persistNow();
    } catch (error) {
      this._diag.error(`could not settle exposures before the invocation completed: ${String(error)}`);
    }
  }

  private persistNow(): void {
    const { spooled, lost, dir } = persistAllSync();
    const lostTotal = Object.values(lost).reduce((a, b) => a + b, 0);
    if (spooled > 0 || lostTotal > 0) {
      this._diag.warn(
        `${spooled} Mixpanel record(s) not delivered within the invocation's budget, written to ${dir}` +
          (lostTotal > 0 ? `; ${lostTotal} lost (${JSON.stringify(lost)})` : ''),
      );
    }
  }
}
