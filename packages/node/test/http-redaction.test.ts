import { describe, expect, it } from 'vitest';
import { isMixpanelRequest, redactMixpanelSpanUrl, registerMixpanelHost } from '../src/http-redaction.js';
import { contextConfigFromEnv } from '../src/shared-context.js';

const DATA = Buffer.from(JSON.stringify({ event: 'Purchase', properties: { token: 'secret-token' } })).toString(
  'base64',
);

describe('redactMixpanelSpanUrl', () => {
  it("redacts the payload and credentials of the mixpanel client's requests, keeping harmless parameters", () => {
    expect(
      redactMixpanelSpanUrl({
        protocol: 'https:',
        hostname: 'api-eu.mixpanel.com',
        port: 443,
        path: `/track?ip=0&verbose=0&data=${encodeURIComponent(DATA)}`,
      }),
    ).toEqual({ 'url.full': 'https://api-eu.mixpanel.com/track?ip=0&verbose=0&data=REDACTED' });
    expect(
      redactMixpanelSpanUrl({ protocol: 'https:', hostname: 'api.mixpanel.com', path: '/engage?data=x&api_key=k' }),
    ).toEqual({ 'url.full': 'https://api.mixpanel.com/engage?data=REDACTED&api_key=REDACTED' });
  });

  it("covers the hosts of the app's clients (a proxy, a local server) and Mixpanel's paths anywhere", () => {
    expect(isMixpanelRequest('mixpanel-proxy.internal', '/collect?payload=abc')).toBe(false);
    registerMixpanelHost('mixpanel-proxy.internal:8080');
    expect(isMixpanelRequest('mixpanel-proxy.internal', '/collect?payload=abc')).toBe(true);
    expect(
      redactMixpanelSpanUrl({ protocol: 'http:', hostname: '127.0.0.1', port: 8080, path: `/mp/track?data=${DATA}` }),
    ).toEqual({ 'url.full': 'http://127.0.0.1:8080/mp/track?data=REDACTED' });
  });

  it('leaves other requests alone', () => {
    expect(redactMixpanelSpanUrl({ hostname: 'example.com', path: '/search?data=public&q=1' })).toEqual({});
    expect(redactMixpanelSpanUrl({ hostname: 'api.mixpanel.com', path: '/track' })).toEqual({});
  });
});

describe('contextConfigFromEnv', () => {
  it('reads the variables and names the one that is wrong, never echoing a URL', () => {
    expect(
      contextConfigFromEnv({
        OPTIMIZELY_MIXPANEL_CONTEXT_MAX_ENTRIES: '5000',
        OPTIMIZELY_MIXPANEL_CONTEXT_TTL_MS: '3600000',
        OPTIMIZELY_MIXPANEL_CONTEXT_LOOKUP_TIMEOUT_MS: '20',
        OPTIMIZELY_MIXPANEL_CONTEXT_REDIS_URL: 'redis://:pw@127.0.0.1:6379',
      }),
    ).toEqual({ maxEntries: 5000, ttlMs: 3_600_000, lookupTimeoutMs: 20, redisUrl: 'redis://:pw@127.0.0.1:6379' });
    expect(() => contextConfigFromEnv({ OPTIMIZELY_MIXPANEL_CONTEXT_TTL_MS: '1h' })).toThrow(
      /OPTIMIZELY_MIXPANEL_CONTEXT_TTL_MS/,
    );
    expect(() => contextConfigFromEnv({ OPTIMIZELY_MIXPANEL_CONTEXT_REDIS_URL: 'http://user:pw@host' })).toThrow(
      /^(?!.*pw).*REDIS_URL/,
    );
  });
});
