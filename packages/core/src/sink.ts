import { type ExposureHook, type HookProblem, runExposureHook } from './hooks.js';
import type { Exposure, FlagDecision, Outcome, SkipReason } from './types.js';

/**
 * Where complete exposures go: the exporter's queue in Node, `mixpanel-browser`
 * in the page. Every exposure the pipeline lets through (event and profile
 * property, or a rollout's profile property alone) passes through {@link send}
 * once, after the exposure hook: the one place to observe them all.
 */
export interface ExposureSink {
  /** Sends one exposure; returns nothing when it was handed over, else why it was not. */
  send(exposure: Exposure, decision: FlagDecision): SkipReason | undefined;
}

/** What became of a decision: `exported`, or why not. */
export type DecisionResult = 'exported' | SkipReason;

/**
 * Runs an exposure hook and checks what it left, as {@link runExposureHook}
 * does: returns whether anything is left to send.
 */
export type HookRunner = (
  exposure: Exposure,
  decision: FlagDecision,
  count: (reason: SkipReason) => void,
  report: (problem: HookProblem, error?: unknown) => void,
) => boolean;

/**
 * Finishes a decision the pipeline handled: runs the exposure hook, hands what
 * is left to the sink, and reports every skip through `count`: once per
 * decision not exported, and once (with `removal` true) when the hook removed
 * events of an exposure whose profile property is still sent.
 */
export function deliver(
  outcome: Outcome,
  sink: ExposureSink,
  hook: ExposureHook | undefined,
  count: (reason: SkipReason, removal?: boolean) => void,
  report: (problem: HookProblem, error?: unknown) => void,
): DecisionResult {
  return deliverWith(outcome, sink, hook && ((e, d, c, r) => runExposureHook(hook, e, d, c, r)), count, report);
}

/**
 * {@link deliver} with the hook given as its runner: a bundle that has no hook
 * leaves the hook's checks out.
 */
export function deliverWith(
  outcome: Outcome,
  sink: ExposureSink,
  runHook: HookRunner | undefined,
  count: (reason: SkipReason, removal?: boolean) => void,
  report: (problem: HookProblem, error?: unknown) => void,
): DecisionResult {
  const { exposure, decision } = outcome;
  if (!exposure) {
    count(outcome.skipReason);
    return outcome.skipReason;
  }
  let removed: SkipReason | undefined;
  if (runHook) {
    const keep = runHook(
      exposure,
      decision,
      (reason) => {
        removed = reason;
      },
      report,
    );
    if (!keep) {
      const reason = removed ?? 'dropped_by_hook';
      count(reason);
      return reason;
    }
    // Events removed, profile property still sent: counted, the decision itself is exported.
    if (removed) count(removed, true);
  }
  const failed = sink.send(exposure, decision);
  if (failed) {
    count(failed);
    return failed;
  }
  return 'exported';
}
