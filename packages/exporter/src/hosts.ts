/** Mixpanel's ingestion hosts by data residency. */
export const MIXPANEL_HOSTS = {
  us: 'https://api.mixpanel.com',
  eu: 'https://api-eu.mixpanel.com',
  in: 'https://api-in.mixpanel.com',
} as const;

export type MixpanelRegion = keyof typeof MIXPANEL_HOSTS;

/** True for hosts that never leave this machine: plain HTTP is allowed only there. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Resolves the ingestion base URL from a region or a custom host (a proxy).
 * @throws TypeError when the URL is invalid, or plain HTTP for a non-loopback host.
 */
export function resolveApiHost(apiHost: string | undefined, region: MixpanelRegion | undefined): URL {
  if (apiHost === undefined) {
    if (region !== undefined && !(region in MIXPANEL_HOSTS)) {
      throw new TypeError(`region must be one of ${Object.keys(MIXPANEL_HOSTS).join(', ')}`);
    }
    return new URL(MIXPANEL_HOSTS[region ?? 'us']);
  }
  let url: URL;
  try {
    url = new URL(apiHost);
  } catch {
    // The value is never echoed: a token pasted into the wrong variable must not reach a log.
    throw new TypeError('apiHost must be an absolute URL such as https://api-eu.mixpanel.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError('apiHost must use https');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new TypeError('apiHost must use https: plain http is only allowed for loopback addresses');
  }
  if (url.username || url.password) throw new TypeError('apiHost must not carry credentials');
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}
