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
    if (request.endpoint === 'engage') {
      await Promise.all(
        records.map((update) =>
          this.call(request.signal, (done) =>
            this.client.people.set(update.$distinct_id as string, (update.$set ?? {}) as Record<string, unknown>, done),
          ),
        ),
      );
    } else {
      const events = records.map((record) => {
        const { token: _token, ...properties } = (record.properties ?? {}) as Record<string, unknown>;
        return { event: record.event as string, properties };
      });
      await this.call(request.signal, (done) => this.client.track_batch(events, done));
    }
    return { status: 200, body: '1' };
  }

  /** Runs one callback-style call, rejecting on its error or when `signal` aborts (the client has no timeout). */
  private call(signal: AbortSignal, run: (done: Callback) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      run((error) => {
        signal.removeEventListener('abort', onAbort);
        const first = Array.isArray(error) ? error[0] : error;
        if (first) reject(first instanceof Error ? first : new Error(String(first)));
        else resolve();
      });
    });
  }
}
