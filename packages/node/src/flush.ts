import { flushAll, shutdownAll } from './lifecycle.js';

/**
 * Sends every queued exposure of the instrumentation the preload created (or
 * the ones the application created), then flushes spans; resolves when each
 * is delivered, dropped (counted) or written to the spool. Resolves at once
 * when nothing is enabled. Never rejects.
 *
 * @example
 * ```ts
 * import { flush } from '@optimizely-mixpanel/node';
 * export const handler = async (event) => {
 *   const result = await work(event);
 *   await flush();
 *   return result;
 * };
 * ```
 */
export function flush(): Promise<void> {
  return flushAll();
}

/**
 * Flushes within `timeoutMs` (default `OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS`,
 * else 5000) and stops the exporters the instrumentations created; what is
 * still pending at the deadline is written to the spool. For an application's
 * own shutdown sequence. Resolves at once when nothing is enabled. Never rejects.
 */
export function shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
  return shutdownAll(options.timeoutMs);
}
