/*
 * Attribute and metric names. Stable HTTP client conventions, copied in; the
 * `mixpanel.*` ones are this package's own.
 */
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count';
export const ATTR_HTTP_REQUEST_BODY_SIZE = 'http.request.body.size';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_URL_FULL = 'url.full';
export const ATTR_URL_TEMPLATE = 'url.template';
export const ATTR_ERROR_TYPE = 'error.type';

export const ATTR_MIXPANEL_ENDPOINT = 'mixpanel.endpoint';
export const ATTR_MIXPANEL_RECORD_TYPE = 'mixpanel.record.type';
export const ATTR_MIXPANEL_RECORDS_COUNT = 'mixpanel.records.count';
export const ATTR_MIXPANEL_RECORDS_REJECTED = 'mixpanel.records.rejected';
export const ATTR_MIXPANEL_ATTEMPT = 'mixpanel.attempt';
export const ATTR_MIXPANEL_RETRY_DELAY_MS = 'mixpanel.retry.delay_ms';
export const ATTR_MIXPANEL_DROP_REASON = 'mixpanel.drop.reason';
export const ATTR_OPTIMIZELY_SKIP_REASON = 'optimizely.skip.reason';

export const METRIC_RECORDS_QUEUED = 'optimizely_mixpanel.records.queued';
export const METRIC_RECORDS_EXPORTED = 'optimizely_mixpanel.records.exported';
export const METRIC_RECORDS_RETRIED = 'optimizely_mixpanel.records.retried';
export const METRIC_RECORDS_DROPPED = 'optimizely_mixpanel.records.dropped';
export const METRIC_EXPOSURES_SKIPPED = 'optimizely_mixpanel.exposures.skipped';
export const METRIC_REQUEST_DURATION = 'optimizely_mixpanel.request.duration';
export const METRIC_QUEUE_SIZE = 'optimizely_mixpanel.queue.size';
