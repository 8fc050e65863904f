import { type Fault, type FaultRule, parseFault } from './faults.js';

/** Faults waiting to be played, in the order they were queued. */
export class FaultQueue {
  private readonly rules: FaultRule[] = [];

  /** Queues `fault` for the next `times` requests (default 1), optionally only for paths starting with `path`. */
  add(fault: Fault | string, options: { times?: number; path?: string } = {}): void {
    this.rules.push({
      fault: typeof fault === 'string' ? parseFault(fault) : fault,
      remaining: options.times ?? 1,
      path: options.path,
    });
  }

  /** The first fault that applies to `path`, counted as played. */
  take(path: string): FaultRule | undefined {
    const index = this.rules.findIndex((rule) => rule.remaining > 0 && (!rule.path || path.startsWith(rule.path)));
    if (index < 0) return undefined;
    const rule = this.rules[index] as FaultRule;
    rule.remaining--;
    if (rule.remaining <= 0) this.rules.splice(index, 1);
    return rule;
  }

  clear(): void {
    this.rules.length = 0;
  }
}
