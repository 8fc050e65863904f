import { isValidDistinctId } from './limits.js';

/**
 * Mixpanel's identity properties (Simplified ID Merge) read from SDK user
 * attributes: `$device_id` (the browser's Mixpanel device id, e.g. from its
 * cookie) and `$user_id` (once logged in).
 */
export interface MixpanelIdentity {
  $device_id?: string;
  $user_id?: string;
  /** What Mixpanel derives from them: `$user_id`, else `$device:<$device_id>` (the browser's anonymous id). */
  distinctId: string;
}

/**
 * The identity in `attributes`, or undefined when they carry neither id (or
 * only placeholders, empty or non-string values). Numbers are taken as their
 * decimal string. May throw on hostile attributes (callers contain it).
 */
export function readIdentity(attributes: unknown): MixpanelIdentity | undefined {
  // Optional reads: null, undefined and primitives carry neither id.
  const source = attributes as Record<string, unknown> | null | undefined;
  const device = idOf(source?.$device_id);
  const user = idOf(source?.$user_id);
  if (device === undefined && user === undefined) return undefined;
  const identity: MixpanelIdentity = { distinctId: user ?? `$device:${device}` };
  if (device !== undefined) identity.$device_id = device;
  if (user !== undefined) identity.$user_id = user;
  return identity;
}

function idOf(value: unknown): string | undefined {
  const id = Number.isFinite(value) ? String(value) : value;
  return isValidDistinctId(id) ? id : undefined;
}
