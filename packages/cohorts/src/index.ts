export { FileCohortStore, type FileCohortStoreOptions } from './file-store.js';
export { describeLocation, isRedisUrl, type OpenCohortStoreOptions, openCohortStore } from './open-store.js';
export { PayloadError, parseCohortRequest, type WebhookReply } from './protocol.js';
export {
  type CohortReceiverOptions,
  type CohortRequestHandler,
  createCohortReceiver,
  DEFAULT_MAX_BODY_BYTES,
  type ReceiverEvent,
} from './receiver.js';
export { RedisCohortStore, type RedisCohortStoreOptions } from './redis-store.js';
export { CohortReplica, type CohortReplicaOptions } from './replica.js';
export { cohortSegmentsOf, instrumentUserContexts, qualifyUserContext } from './sdk.js';
export { segmentName } from './segment.js';
export * from './semconv.js';
export {
  type ApplyResult,
  type CohortAction,
  type CohortInfo,
  type CohortRequest,
  type CohortStore,
  RetryableStoreError,
} from './types.js';
