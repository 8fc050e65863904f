import type { DiagLogger } from '@opentelemetry/api';

/** How often one kind of message may be logged. */
export const LOG_INTERVAL_MS = 10_000;

/**
 * A diag logger that writes each kind of message at most once per interval
 * (10 s by default) and says how many of that kind it left out since, so a
 * failure storm cannot flood the application's log. A logger that throws
 * changes nothing. `log` may be a function, for a logger chosen later.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: DiagLogger | (() => DiagLogger),
    private readonly intervalMs = LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  error(kind: string, message: string): void {
    this.write('error', kind, message);
  }

  warn(kind: string, message: string): void {
    this.write('warn', kind, message);
  }

  private write(level: 'error' | 'warn', kind: string, message: string): void {
    const now = this.now();
    const entry = this.last.get(kind);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    // Kinds are a small fixed set (reasons, statuses): the map stays small.
    this.last.set(kind, { at: now, suppressed: 0 });
    try {
      const log = typeof this.log === 'function' ? this.log() : this.log;
      log[level](suppressed > 0 ? `${message} (${suppressed} more like this since the last)` : message);
    } catch {
      // A throwing logger changes nothing.
    }
  }
}
