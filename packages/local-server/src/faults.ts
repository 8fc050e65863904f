/** A failure the server plays instead of answering normally. */
export type Fault =
  /** Answer with this status (and Mixpanel's body for it). */
  | { kind: 'status'; status: number; retryAfter?: string | undefined }
  /** Never answer (the client's timeout must fire). */
  | { kind: 'hang' }
  /** Destroy the connection without an answer. */
  | { kind: 'reset' }
  /** Answer normally after a delay. */
  | { kind: 'delay'; ms: number };

/** A fault with how many requests it applies to and which paths. */
export interface FaultRule {
  fault: Fault;
  /** Requests left to apply it to; `Infinity` until cleared. */
  remaining: number;
  /** Only requests whose path starts with this (e.g. `/engage`). */
  path?: string | undefined;
}

/** Parses the CLI/HTTP form of a fault: `429`, `429:retry-after=2`, `500`, `hang`, `reset`, `delay=250`. */
export function parseFault(spec: string): Fault {
  const [head = '', ...options] = spec.split(':');
  if (head === 'hang') return { kind: 'hang' };
  if (head === 'reset') return { kind: 'reset' };
  if (head.startsWith('delay=')) {
    const ms = Number(head.slice('delay='.length));
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`invalid delay in fault ${JSON.stringify(spec)}`);
    return { kind: 'delay', ms };
  }
  const status = Number(head);
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new TypeError(`unknown fault ${JSON.stringify(spec)}: use a 4xx/5xx status, hang, reset or delay=MS`);
  }
  const retryAfter = options.find((o) => o.startsWith('retry-after='))?.slice('retry-after='.length);
  return { kind: 'status', status, retryAfter };
}

/** Mixpanel's reply bodies for the statuses tests inject. */
export function faultBody(status: number): string {
  if (status === 429) {
    return JSON.stringify({
      code: 429,
      error: 'Project exceeded rate limits. Please retry the request with exponential backoff.',
      status: 'Too Many Requests',
    });
  }
  if (status === 401) return JSON.stringify({ code: 401, error: 'Invalid credentials', status: 'Unauthorized' });
  if (status === 413)
    return JSON.stringify({ code: 413, error: 'request exceeds 2097152 bytes', status: 'Payload Too Large' });
  return JSON.stringify({ code: status, error: 'injected failure', status: 'error' });
}
