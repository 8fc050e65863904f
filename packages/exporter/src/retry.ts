/** Retry schedule of failed requests. */
export interface RetryOptions {
  /** Attempts per batch, the first included. Default 8. */
  maxAttempts?: number;
  /** Delay before the first retry, doubled for each next one. Default 2000 ms. */
  initialDelayMs?: number;
  /** Longest backoff between attempts, and the most a server's `Retry-After` is waited for. Default 60 000 ms. */
  maxDelayMs?: number;
  /** Random delay added to each backoff, up to this much. Default 5000 ms. */
  maxJitterMs?: number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const resolved = {
    maxAttempts: options.maxAttempts ?? 8,
    initialDelayMs: options.initialDelayMs ?? 2000,
    maxDelayMs: options.maxDelayMs ?? 60_000,
    maxJitterMs: options.maxJitterMs ?? 5000,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`retry.${name} must be a finite number >= 0`);
  }
  if (resolved.maxAttempts < 1) throw new TypeError('retry.maxAttempts must be at least 1');
  return resolved;
}

/**
 * Delay before attempt `attempt + 1`: exponential backoff with jitter, or the
 * server's `Retry-After` when that is longer, never more than `maxDelayMs`.
 * A `Retry-After` of 0 cannot turn the backoff into a tight loop.
 */
export function retryDelayMs(attempt: number, options: ResolvedRetryOptions, retryAfterMs?: number): number {
  const backoff = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1));
  const delay = Math.round(backoff + Math.random() * options.maxJitterMs);
  return retryAfterMs === undefined ? delay : Math.max(delay, Math.min(retryAfterMs, options.maxDelayMs));
}

/** Parses `Retry-After` (seconds or an HTTP date) into ms; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
