import { type ClientConfigCache, clientConfigCache } from './client-config.js';

const DECISION_6 = 'DECISION';
const DECISION_5 = 'DECISION:type, userId, attributes, decisionInfo';
/** The notification type of a new datafile: the same string in SDK 5.x and 6.x. */
export const CONFIG_UPDATE = 'OPTIMIZELY_CONFIG_UPDATE';

/** Notification type names as an SDK module exports them (6.x: `NOTIFICATION_TYPES`; 5.x: `enums.NOTIFICATION_TYPES`). */
export interface NotificationTypes {
  DECISION?: string;
}

interface SdkLike {
  NOTIFICATION_TYPES?: NotificationTypes;
  enums?: { NOTIFICATION_TYPES?: NotificationTypes };
  default?: SdkLike;
}

interface NotificationCenter {
  addNotificationListener(type: string, listener: (payload: unknown) => void): number;
}

/** Called with every DECISION notification of a subscribed client and that client's config cache. */
export type DecisionListener = (notification: unknown, config: ClientConfigCache) => void;

let defaultSubscribed: WeakSet<object> | undefined;

/**
 * Adds `listener` to a client's DECISION notifications, and keeps the
 * client's rule kinds fresh on OPTIMIZELY_CONFIG_UPDATE. The type string
 * differs by major version (6.x `DECISION`, 5.x its long form): taken from
 * `sdk` when given, else both are tried. Idempotent through `subscribed` (by
 * default one set for every caller of this module): a client in it never gets
 * a second listener. Returns whether the client is subscribed.
 * May throw on a hostile client; callers contain it.
 */
export function subscribeClient(
  client: unknown,
  listener: DecisionListener,
  subscribed?: WeakSet<object>,
  sdk?: unknown,
  onConfigError?: (error: unknown) => void,
): boolean {
  const s = sdk as SdkLike | undefined;
  const types = s?.NOTIFICATION_TYPES ?? s?.enums?.NOTIFICATION_TYPES ?? s?.default?.enums?.NOTIFICATION_TYPES;
  defaultSubscribed ??= new WeakSet();
  return subscribeWith(client, listener, subscribed ?? defaultSubscribed, types, onConfigError);
}

/**
 * {@link subscribeClient} with the notification type names given (or none:
 * both are tried) and its own set of subscribed clients.
 */
export function subscribeWith(
  client: unknown,
  listener: DecisionListener,
  subscribed: WeakSet<object>,
  types: NotificationTypes | undefined,
  onConfigError?: (error: unknown) => void,
): boolean {
  if (subscribed.has(client as object)) return true;
  const center = (client as { notificationCenter?: NotificationCenter } | null | undefined)?.notificationCenter;
  if (typeof center?.addNotificationListener !== 'function') return false;
  const cache = clientConfigCache(client as { getOptimizelyConfig?: () => unknown }, onConfigError);
  const onDecision = (notification: unknown) => listener(notification, cache);
  // A negative id: the SDK does not know the type (the other major's name); 6.x may return a non-number.
  let id: unknown;
  for (const type of types?.DECISION ? [types.DECISION] : [DECISION_6, DECISION_5]) {
    id = center.addNotificationListener(type, onDecision);
    if (!((id as number) < 0)) break;
  }
  if ((id as number) < 0) return false;
  // Only once the DECISION listener is in: a refused client keeps no listener of ours.
  center.addNotificationListener(CONFIG_UPDATE, () => cache.invalidate());
  subscribed.add(client as object);
  return true;
}
