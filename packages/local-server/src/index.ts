export { decodeRecords, MAX_BODY_BYTES, RequestError, rawParam } from './decode.js';
export { type Fault, type FaultRule, parseFault } from './faults.js';
export { formatEvent, formatProfileUpdate, formatTable } from './format.js';
export { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
export { LocalMixpanelServer, type LocalMixpanelServerOptions, summarize } from './server.js';
export { spawnLocalServer } from './spawn.js';
export type { RequestLogEntry, StoredEvent, StoredProfileUpdate } from './store.js';
export { MAX_RECORDS_PER_REQUEST, timeToMs, validateEvent } from './validate.js';
