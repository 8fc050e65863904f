import type { Endpoint, Transport, TransportRequest, TransportResponse, TransportTarget } from './transport.js';

type Callback = (error?: Error | Error[] | null | undefined) => void;

/** The part of a `mixpanel` (Node) client this adapter uses. */
export interface MixpanelNodeClient {
  track_batch(events: Array<{ event: string; properties: Record<string, unknown> }>, callback: Callback): void;
  people: {
    set(distinctId: string, properties: Record<string, unknown>, callback: Callback): void;
  };
  config?: { host?: string; protocol?: string };
}

/**
 * Sends through an application's existing `mixpanel` client (`track_batch`,
 * `people.set`) for teams that must keep it. The exporter adds what the client
 * lacks: timeouts, retries, spans and metrics. The client never reports HTTP
 * statuses, so every failure is treated as retryable (`status` 0); the
 * deterministic `$insert_id` keeps a re-sent event from counting twice.
 */
export class MixpanelClientTransport implements Transport {
  constructor(private readonly client: MixpanelNodeClient) {}

  target(endpoint: Endpoint): TransportTarget {
    const host = this.client.config?.host ?? 'api.mixpanel.com';
    const protocol = this.client.config?.protocol ?? 'https';
    return {
      url: `${protocol}://${host}/${endpoint === 'engage' ? 'engage' : 'track'}`,
      serverAddress: host.split(':')[0],
    };
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    const records = JSON.parse(request.body) as Array<Record<string, unknown>>;
    let work: Promise<unknown>;
    if (request.endpoint === 'engage') {
      work = Promise.all(
        records.map((update) =>
          call((done) =>
            this.client.people.set(update.$distinct_id as string, (update.$set ?? {}) as Record<string, unknown>, done),
          ),
        ),
      );
    } else {
      const events = records.map((record) => {
        const { token: _token, ...properties } = (record.properties ?? {}) as Record<string, unknown>;
        return { event: record.event as string, properties };
      });
      work = call((done) => this.client.track_batch(events, done));
    }
    await abortable(work, request.signal);
    return { status: 200, body: '1' };
  }
}

/** Runs one callback-style call of the client, rejecting on its error. */
function call(run: (done: Callback) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    run((error) => {
      const first = Array.isArray(error) ? error[0] : error;
      if (first) reject(first instanceof Error ? first : new Error(String(first)));
      else resolve();
    });
  });
}

/**
 * Settles with `work`, or rejects when `signal` aborts first (the client has no
 * timeout). One listener per request however many calls it makes.
 */
function abortable(work: Promise<unknown>, signal: AbortSignal): Promise<void> {
  // Calls still running after an abort settle later: their outcome is no longer wanted.
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
