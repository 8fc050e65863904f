import type { DeduplicatorOptions } from './dedup.js';
import type { LegacyReader } from './notification.js';

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

/**
 * How a rule was reached: an experiment (A/B, multi-armed bandit), a targeted
 * delivery, the everyone-else delivery rule, or `unknown` when neither the
 * datafile nor the rule key tells.
 */
export type RuleKind = 'experiment' | 'rollout' | 'everyone_else' | 'unknown';

/** Which exposure event(s) to emit. */
export type EventFormat = 'experiment_viewed' | 'experiment_started' | 'both';

/**
 * What a rollout decision (targeted delivery, everyone else, no rule) gives:
 * the exposure event and the profile property (`event`), the profile property
 * alone (`profile`, the default: a rollout is not an experiment), or nothing (`off`).
 */
export type RolloutMode = 'event' | 'profile' | 'off';

/**
 * Why a decision did not reach Mixpanel, in Node and in the browser alike.
 * Each is counted; none is lost silently.
 */
export type SkipReason =
  /** Not an object with `type` and `decisionInfo`, or reading it threw. */
  | 'invalid_notification'
  /** A legacy decision type (`feature-test`, `ab-test`, `feature`, ...) with no legacy reader. */
  | 'legacy_type'
  /** A decision type this pipeline does not know. */
  | 'unsupported_type'
  /** A decision that does not name a variation (legacy rollouts, enabled flags without a variation key). */
  | 'no_variation'
  /** A flag decision with an empty or null `ruleKey` while `includeRulelessDecisions` is off. */
  | 'no_rule'
  /** A rollout rule while `rollouts` is `off`. */
  | 'rollout_excluded'
  /** Empty, non-string, over 255 UTF-8 bytes, placeholder, NUL or lone-surrogate user id (Mixpanel rejects or mangles them). */
  | 'invalid_user_id'
  /** Empty or non-string flag key, or one with NUL or a lone surrogate. */
  | 'invalid_flag_key'
  /** The same user, flag, rule and variation was exposed within the dedup window. */
  | 'duplicate'
  /** The exposure hook returned `false` or removed the events. */
  | 'dropped_by_hook'
  /** The exposure hook left events or a profile update that cannot be sent; those were removed. */
  | 'invalid_hook_result'
  /** No Mixpanel export is configured (no token, or an unsafe host). */
  | 'no_exporter'
  /** The export queue refused it (full or shut down; the exporter counts the drop reason). */
  | 'dropped'
  /** The browser user opted out of tracking. */
  | 'opted_out'
  /** The Optimizely user id is not Mixpanel's `distinct_id` and the identity policy is `warn`. */
  | 'identity_mismatch'
  /** Decided before the browser integration was enabled, beyond the replay buffer. */
  | 'dropped_before_enable'
  /** Handling failed unexpectedly (reported once, rate-limited). */
  | 'error';

/** Configuration of {@link DecisionPipeline}. Every field is optional; invalid values warn and use the default. */
export interface PipelineConfig {
  /** `experiment_viewed` (default), `experiment_started` (Mixpanel's Experiments report) or `both`. */
  eventFormat?: EventFormat;
  /** Name of the exposure event in the `experiment_viewed` format. Default `Experiment Viewed`. */
  eventName?: string;
  /** Prefix of the profile property; the flag key follows it. Default `[Optimizely] `. */
  profilePropertyPrefix?: string;
  /**
   * Pass `readLegacyDecision` to map legacy decisions (`activate`, `isFeatureEnabled`, ...)
   * that name a variation. Default: skipped as `legacy_type`.
   */
  legacy?: LegacyReader;
  /** What rollout rules give: `event`, `profile` (default) or `off`. */
  rollouts?: RolloutMode;
  /** Export flag decisions with no rule (flag off for everyone) as rollouts. Default false. */
  includeRulelessDecisions?: boolean;
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
  /** Told once per invalid option, by name (never its value); the option then takes its default. */
  warn?: (message: string) => void;
}

/**
 * The dedup memory an {@link ExposurePipeline} is given: Node's bounded table
 * for hundreds of thousands of users, or a page's small map.
 */
export interface Deduplicator {
  /** The window, in ms; also the bucket of `$insert_id`, so both sides of a page derive the same id. */
  readonly windowMs: number;
  /**
   * True when this user got this rule and variation for this flag less than
   * `windowMs` before `nowMs`; otherwise records it as exported at `nowMs`.
   * Any change of rule or variation is a new exposure.
   */
  seen(userId: string, flagKey: string, ruleKey: string, variationKey: string, nowMs: number): boolean;
  /** Forgets the user's entry for the flag, so the next decision is exported again. */
  forget(userId: string, flagKey: string): void;
}

/** A flag decision read from a notification, complete: its rule kind is resolved. */
export interface FlagDecision {
  /** The notification's `type` (`flag` for `decide*`). */
  decisionType: string;
  /** The SDK user id, as given (validity is checked by the rules). */
  userId: unknown;
  flagKey: string;
  variationKey: string | null;
  ruleKey: string | null;
  ruleKind: RuleKind;
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

/** A decision that should reach Mixpanel, with its Mixpanel records. */
export interface Exposure {
  distinctId: string;
  flagKey: string;
  /** The variation key; `off` when a disabled flag named none. */
  variationKey: string;
  /** The rule key; empty only when ruleless decisions are included. */
  ruleKey: string;
  ruleKind: RuleKind;
  enabled: boolean;
  experimentId?: string;
  variationId?: string;
  decisionType: string;
  decisionEventDispatched: boolean;
  /** When the decision was handled, ms since the epoch. */
  timestamp: number;
  /**
   * Deterministic `$insert_id` of the events: same user, flag, rule, variation
   * and window bucket give the same id. Empty when there are no events.
   */
  insertId: string;
  /** Profile property name (`[Optimizely] <flagKey>`) and value (variation key or `off`). */
  profileProperty: { name: string; value: string };
  /** The exposure event(s); empty for a profile-only rollout exposure. */
  events: MixpanelEvent[];
  profileUpdate: MixpanelProfileUpdate;
  /**
   * The SDK user id, present only when it differs from `distinctId` (derived
   * from `$user_id`/`$device_id` attributes): what the dedup memory is keyed on.
   */
  userId?: string;
}

/** What {@link DecisionPipeline.handle} returns: an exposure, or a skip with its reason. */
export type Outcome =
  | { exposure: Exposure; decision: FlagDecision; skipReason?: undefined }
  | { exposure?: undefined; decision: FlagDecision | undefined; skipReason: SkipReason };

/** The rule kinds, environment and revision of one client's datafile. */
export interface ClientConfig {
  environmentKey: string | undefined;
  revision: string | undefined;
  /** Rule kind by flag key, then rule key: nested so lookups reuse the SDK's strings and their cached hashes. */
  ruleKinds: Map<string, Map<string, RuleKind>>;
}

/** The part of an OpenTelemetry span the pipeline reads: its trace id, for the exposure event. */
export interface TraceSpan {
  spanContext(): { traceId: string };
}
