/** A failure the server plays instead of answering normally. */
export type Fault =
  /** Answer with this status (and Mixpanel's body for it). */
  | { kind: 'status'; status: number; retryAfter?: string | undefined }
  /** Never answer (the client's timeout must fire). */
  | { kind: 'hang' }
  /** Destroy the connection without an answer. */
  | { kind: 'reset' }
  /** Answer normally after a delay. */
  | { kind: 'delay'; ms: number }
  /** Answer this instead of Mixpanel (a redirect, a proxy's or captive portal's page). */
  | {
      kind: 'reply';
      /** How the request log names it, e.g. `redirect=307`. */
      name: string;
      status: number;
      headers?: Record<string, string> | undefined;
      contentType: string;
      body: string;
    };

/** A fault with how many requests it applies to and which paths. */
export interface FaultRule {
  fault: Fault;
  /** Requests left to apply it to; `Infinity` until cleared. */
  remaining: number;
  /** Only requests whose path starts with this (e.g. `/engage`). */
  path?: string | undefined;
}

/**
 * Parses the CLI/HTTP form of a fault: `429`, `429:retry-after=2`, `500`, `hang`, `reset`, `delay=250`,
 * `redirect=307` (to `/track-moved`) or `redirect=301:location=https://elsewhere.example/track`,
 * `html` (a 200 with a proxy's HTML page), `empty` (a 200 with no body).
 */
export function parseFault(spec: string): Fault {
  if (spec.startsWith('redirect=')) return parseRedirect(spec);
  if (spec === 'html') {
    const body = '<!doctype html><html><body><h1>Sign in to continue</h1></body></html>';
    return { kind: 'reply', name: 'html', status: 200, contentType: 'text/html', body };
  }
  if (spec === 'empty') return { kind: 'reply', name: 'empty', status: 200, contentType: 'text/plain', body: '' };
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
    throw new TypeError(
      `unknown fault ${JSON.stringify(spec)}: use a 4xx/5xx status, hang, reset, delay=MS, redirect=3xx, html or empty`,
    );
  }
  const retryAfter = options.find((o) => o.startsWith('retry-after='))?.slice('retry-after='.length);
  return { kind: 'status', status, retryAfter };
}

function parseRedirect(spec: string): Fault {
  const separator = spec.indexOf(':');
  const head = separator < 0 ? spec : spec.slice(0, separator);
  const option = separator < 0 ? '' : spec.slice(separator + 1);
  const status = Number(head.slice('redirect='.length));
  if (![301, 302, 303, 307, 308].includes(status)) {
    throw new TypeError(`invalid redirect in fault ${JSON.stringify(spec)}: use 301, 302, 303, 307 or 308`);
  }
  if (option && !option.startsWith('location=')) throw new TypeError(`unknown option in fault ${JSON.stringify(spec)}`);
  const location = option ? option.slice('location='.length) : '/track-moved';
  return {
    kind: 'reply',
    name: `redirect=${status}`,
    status,
    headers: { Location: location },
    contentType: 'text/plain',
    body: '',
  };
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
