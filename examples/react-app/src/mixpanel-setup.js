import mixpanel from 'mixpanel-browser';

const params = new URLSearchParams(location.search);

/** mixpanel-browser as an app sets it up; the Mixpanel API host is this page's origin here. */
export function initMixpanel() {
  mixpanel.init(params.get('token') ?? 'browser-demo-token', {
    api_host: params.get('api_host') ?? location.origin,
    batch_flush_interval_ms: 100,
    persistence: 'localStorage',
    ignore_dnt: true,
  });
  if (params.get('optout') === '1') mixpanel.opt_out_tracking();
  return mixpanel;
}
