import type { DeduplicatorOptions } from './dedup.js';

/**
 * The single argument of an Optimizely DECISION notification, as SDK 5.x and
 * 6.x pass it. Fields are `unknown` where hostile or malformed payloads must be
 * survived.
 */
export interface DecisionNotification {
  type: string;
  userId: unknown;
  attributes?: Record<string, unknown> | null;
  decisionInfo: Record<string, unknown>;
}

/** How a rule was reached, as far as the payload (or a resolver) tells. */
export type RuleKind = 'experiment' | 'rollout' | 'everyone_else';

/** Which exposure event(s) to emit. */
export type EventFormat = 'experiment_viewed' | 'experiment_started' | 'both';

/** Why a notification did not become an exposure. Each reason is counted by the caller. */
export type SkipReason =
  /** Not an object with `type` and `decisionInfo`, or reading it threw. */
  | 'invalid_notification'
  /** A legacy decision type (`feature-test`, `ab-test`, `feature`, ...) while `includeLegacyTypes` is off. */
  | 'legacy_type'
  /** A decision type this normalizer does not know. */
  | 'unsupported_type'
  /** A decision that does not name a variation (legacy rollouts, enabled flags without a variation key). */
  | 'no_variation'
  /** A flag decision with an empty or null `ruleKey` while `includeRulelessDecisions` is off. */
  | 'no_rule'
  /** A rollout rule while `includeRollouts` is off. */
  | 'rollout_excluded'
  /** Empty, non-string, too long or placeholder user id (Mixpanel rejects them). */
  | 'invalid_user_id'
  /** Empty or non-string flag key. */
  | 'invalid_flag_key'
  /** The same user, flag, rule and variation was exported within the dedup window. */
  | 'duplicate';

/** Every {@link SkipReason}, for counters that pre-create one series per reason. */
export const SKIP_REASONS: readonly SkipReason[] = [
  'invalid_notification',
  'legacy_type',
  'unsupported_type',
  'no_variation',
  'no_rule',
  'rollout_excluded',
  'invalid_user_id',
  'invalid_flag_key',
  'duplicate',
];

/** Configuration of {@link DecisionNormalizer}. Every field is optional. */
export interface NormalizerConfig {
  /** `experiment_viewed` (default), `experiment_started` (Mixpanel's Experiments report) or `both`. */
  eventFormat?: EventFormat;
  /** Name of the exposure event in the `experiment_viewed` format. Default `Experiment Viewed`. */
  eventName?: string;
  /** Prefix of the profile property; the flag key follows it. Default `[Optimizely] `. */
  profilePropertyPrefix?: string;
  /** Map legacy decisions (`activate`, `isFeatureEnabled`, ...) that name a variation. Default false. */
  includeLegacyTypes?: boolean;
  /** Export decisions made by rollout (delivery) rules. Default true. */
  includeRollouts?: boolean;
  /** Export flag decisions with no rule (flag off for everyone). Default false. */
  includeRulelessDecisions?: boolean;
  /**
   * Tells experiment rules from rollout rules. Without it only the
   * everyone-else rule (`default-rollout-<id>`) is recognised as a rollout.
   */
  ruleKind?: (flagKey: string, ruleKey: string) => RuleKind | undefined;
  /** SDK user attributes copied onto the event. Default none: attributes can be PII. */
  attributeAllowlist?: readonly string[];
  /** Dedup window and entry cap, or `false` to export every decision. */
  dedup?: DeduplicatorOptions | false;
  /** Clock in ms; defaults to `Date.now`. */
  now?: () => number;
  /**
   * Clock for the dedup window only, read on every decision; may be coarse (a
   * value refreshed every few hundred ms saves a `Date.now()` per repeated
   * decision). Defaults to `now`. Exposure timestamps always come from `now`.
   */
  dedupClock?: () => number;
}

/** A flag decision read from a notification, before the exposure rules are applied. */
export interface FlagDecision {
  /** The notification's `type` (`flag` for `decide*`). */
  decisionType: string;
  /** The SDK user id, as given (validity is checked by the rules). */
  userId: unknown;
  flagKey: string;
  variationKey: string | null;
  ruleKey: string | null;
  ruleKind: RuleKind | undefined;
  enabled: boolean;
  experimentId: string | undefined;
  variationId: string | undefined;
  decisionEventDispatched: boolean;
}

/** A Mixpanel property value this project emits. */
export type PropertyValue = string | number | boolean;

/** An event in Mixpanel's ingestion shape (token added by the sender). */
export interface MixpanelEvent {
  event: string;
  properties: {
    distinct_id: string;
    /** Milliseconds since the epoch. */
    time: number;
    $insert_id: string;
    [name: string]: PropertyValue;
  };
}

/** A profile update in Mixpanel's `/engage` shape (token added by the sender). */
export interface MixpanelProfileUpdate {
  $distinct_id: string;
  $set: Record<string, string>;
}

/** A decision that should reach Mixpanel, with both Mixpanel shapes derived from it. */
export interface Exposure {
  distinctId: string;
  flagKey: string;
  /** The variation key; `off` when a disabled flag named none. */
  variationKey: string;
  /** The rule key; empty only when ruleless decisions are included. */
  ruleKey: string;
  ruleKind: RuleKind | undefined;
  enabled: boolean;
  experimentId?: string;
  variationId?: string;
  decisionType: string;
  decisionEventDispatched: boolean;
  /** When the decision was normalized, ms since the epoch. */
  timestamp: number;
  /** Deterministic `$insert_id`: same user, flag, rule, variation and window bucket give the same id. */
  insertId: string;
  /** Profile property name (`[Optimizely] <flagKey>`) and value (variation key or `off`). */
  profileProperty: { name: string; value: string };
  events: MixpanelEvent[];
  profileUpdate: MixpanelProfileUpdate;
}

/** What {@link DecisionNormalizer.normalize} returns: an exposure, or a skip with its reason. */
export type NormalizeResult =
  | { exposure: Exposure; decision: FlagDecision; skipReason?: undefined }
  | { exposure?: undefined; decision: FlagDecision | undefined; skipReason: SkipReason };
