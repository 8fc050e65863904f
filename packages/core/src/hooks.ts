import { isValidDistinctId } from './limits.js';
import { isValidName } from './records.js';
import type { Exposure, FlagDecision, MixpanelEvent, SkipReason } from './types.js';

/**
 * Called with each exposure before it is sent. It may add properties to
 * `exposure.events[i].properties`, remove events, or return `false` to drop the
 * exposure. It runs synchronously inside `decide()`: a returned promise is not
 * awaited (its rejection is caught and reported) and what the hook left when it
 * returned is sent.
 */
export type ExposureHook = (exposure: Exposure, decision: FlagDecision) => unknown;

/** A problem with a hook, for the caller's rate-limited warning. */
export type HookProblem = 'threw' | 'returned_promise' | 'rejected';

const INSERT_ID = /^[A-Za-z0-9-]{1,36}$/;

function isValidEvent(e: unknown): e is MixpanelEvent {
  if (e === null || typeof e !== 'object') return false;
  const { event, properties: p } = e as Partial<MixpanelEvent>;
  return (
    isValidName(event) &&
    p !== null &&
    typeof p === 'object' &&
    isValidDistinctId(p.distinct_id) &&
    Number.isFinite(p.time) &&
    typeof p.$insert_id === 'string' &&
    INSERT_ID.test(p.$insert_id)
  );
}

function isValidProfileUpdate(u: unknown): boolean {
  if (u === null || typeof u !== 'object') return false;
  const { $distinct_id, $set } = u as Partial<Exposure['profileUpdate']>;
  return isValidDistinctId($distinct_id) && $set !== null && typeof $set === 'object';
}

/**
 * Runs `hook` on an exposure, contained: a throw sends the exposure unchanged,
 * a returned promise is not awaited. Then validates what the hook left: events
 * that cannot be sent are removed, and every removal is counted through
 * `count` (`dropped_by_hook` when the hook dropped or emptied, `invalid_hook_result`
 * when it left something unsendable). Returns whether anything is left to send.
 */
export function runExposureHook(
  hook: ExposureHook,
  exposure: Exposure,
  decision: FlagDecision,
  count: (reason: SkipReason) => void,
  report: (problem: HookProblem, error?: unknown) => void,
): boolean {
  const eventsBefore = exposure.events.length;
  const events = exposure.events.slice();
  const profileUpdate = exposure.profileUpdate;
  let result: unknown;
  try {
    result = hook(exposure, decision);
  } catch (error) {
    report('threw', error);
    exposure.events = events;
    exposure.profileUpdate = profileUpdate;
    return true;
  }
  if (result === false) {
    count('dropped_by_hook');
    return false;
  }
  if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
    report('returned_promise');
    try {
      (result as PromiseLike<unknown>).then(undefined, (error: unknown) => report('rejected', error));
    } catch (error) {
      report('rejected', error);
    }
  }
  if (!isValidProfileUpdate(exposure.profileUpdate)) {
    count('invalid_hook_result');
    return false;
  }
  const after: unknown = exposure.events;
  const valid = Array.isArray(after) ? after.filter(isValidEvent) : [];
  if (!Array.isArray(after) || valid.length !== after.length) count('invalid_hook_result');
  else if (valid.length < eventsBefore) count('dropped_by_hook');
  exposure.events = valid;
  return true;
}
