import { ExposureDeduplicator } from './dedup.js';
import { hash128, rehash, toHex } from './hash.js';
import { isValidDistinctId, MIXPANEL_LIMITS, truncateName, truncateUtf8 } from './limits.js';
import type {
  DecisionNotification,
  EventFormat,
  Exposure,
  FlagDecision,
  MixpanelEvent,
  NormalizeResult,
  NormalizerConfig,
  PropertyValue,
  SkipReason,
} from './types.js';

const LEGACY_VARIATION_TYPES = new Set(['ab-test', 'feature-test']);
const LEGACY_FEATURE_TYPES = new Set(['feature', 'feature-variable', 'all-feature-variables']);
const EVERYONE_ELSE_PREFIX = 'default-rollout-';
/**
 * Exposure events carry the minute they happened in, not the millisecond: a page
 * rendered on the server and hydrated in the browser decides twice, and both sides
 * then send the same (event, time, distinct_id, $insert_id), which Mixpanel keeps once.
 */
const EVENT_TIME_STEP_MS = 60_000;

/** Event properties this package writes; allowlisted attributes never overwrite them. */
const RESERVED_PROPERTIES = new Set([
  'distinct_id',
  'time',
  '$insert_id',
  'token',
  'flag_key',
  'variation_key',
  'rule_key',
  'enabled',
  'experiment_id',
  'variation_id',
  'Experiment name',
  'Variant name',
]);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const EVENT_FORMATS: readonly EventFormat[] = ['experiment_viewed', 'experiment_started', 'both'];

/**
 * Turns Optimizely DECISION notifications (SDK 5.x and 6.x) into Mixpanel
 * exposures, or into a skip with its reason. Stateful only through its
 * bounded dedup memory. {@link normalize} never throws.
 *
 * @example
 * ```ts
 * const normalizer = new DecisionNormalizer({ dedup: { windowMs: 30 * 60_000 } });
 * notificationCenter.addNotificationListener(DECISION, (n) => {
 *   const result = normalizer.normalize(n);
 *   if (result.exposure) send(result.exposure.events, result.exposure.profileUpdate);
 * });
 * ```
 */
export class DecisionNormalizer {
  private readonly eventFormat: EventFormat;
  private readonly eventName: string;
  private readonly profilePrefix: string;
  private readonly includeLegacyTypes: boolean;
  private readonly includeRollouts: boolean;
  private readonly includeRuleless: boolean;
  private readonly ruleKind: NormalizerConfig['ruleKind'];
  private readonly attributeAllowlist: readonly string[];
  private readonly now: () => number;
  private readonly dedupClock: () => number;
  /** The dedup memory, or undefined when dedup is off. */
  readonly deduplicator: ExposureDeduplicator | undefined;
  private readonly windowMs: number;
  /** Profile property names by flag key: building and interning them per call is the costliest step. */
  private readonly profileNames = new Map<string, string>();

  /** @throws TypeError on an invalid configuration (never on input). */
  constructor(config: NormalizerConfig = {}) {
    const format = config.eventFormat ?? 'experiment_viewed';
    if (!EVENT_FORMATS.includes(format)) {
      throw new TypeError(`eventFormat must be one of ${EVENT_FORMATS.join(', ')}; got ${String(format)}`);
    }
    this.eventFormat = format;
    this.eventName = checkName('eventName', config.eventName ?? 'Experiment Viewed');
    this.profilePrefix = config.profilePropertyPrefix ?? '[Optimizely] ';
    if (typeof this.profilePrefix !== 'string') throw new TypeError('profilePropertyPrefix must be a string');
    this.includeLegacyTypes = config.includeLegacyTypes === true;
    this.includeRollouts = config.includeRollouts !== false;
    this.includeRuleless = config.includeRulelessDecisions === true;
    this.ruleKind = config.ruleKind;
    this.attributeAllowlist = checkAllowlist(config.attributeAllowlist ?? []);
    this.now = config.now ?? Date.now;
    this.dedupClock = config.dedupClock ?? this.now;
    this.deduplicator = config.dedup === false ? undefined : new ExposureDeduplicator(config.dedup, this.now());
    this.windowMs = this.deduplicator?.windowMs ?? 30 * 60 * 1000;
  }

  /**
   * Reads one DECISION notification. Returns the exposure to send, or the
   * reason it is skipped; `decision` is the parsed flag decision whenever the
   * payload names one (for telemetry of every evaluation, skipped or not).
   */
  normalize(notification: unknown): NormalizeResult {
    let decision: FlagDecision | undefined;
    try {
      const read = readDecision(notification, this.includeLegacyTypes);
      if (typeof read === 'string') return { decision: undefined, skipReason: read };
      decision = read;
      // Rule kinds matter before dedup only when rollouts are excluded; otherwise they are
      // resolved for exposures alone, keeping repeated decisions cheap.
      if (!this.includeRollouts) this.fillRuleKind(decision);
      const reason = this.check(decision);
      if (reason) return { decision, skipReason: reason };
      return this.expose(decision, notification as DecisionNotification);
    } catch {
      // Hostile payloads (throwing getters, proxies) and throwing resolvers end here.
      return { decision, skipReason: 'invalid_notification' };
    }
  }

  /**
   * Forgets an exported exposure, so the same decision is exported again.
   * For senders that failed to deliver it and want a later decision to retry.
   */
  forget(exposure: Exposure): void {
    this.deduplicator?.forget(exposure.distinctId, exposure.flagKey);
  }

  /**
   * Sets `decision.ruleKind` when it is not known yet: from the `ruleKind`
   * resolver, else `everyone_else` for `default-rollout-*` rules. Skipped
   * decisions may come back without it, to keep the hot path short.
   */
  fillRuleKind(decision: FlagDecision): void {
    if (!decision.ruleKey || decision.ruleKind !== undefined) return;
    decision.ruleKind =
      this.ruleKind?.(decision.flagKey, decision.ruleKey) ??
      (decision.ruleKey.startsWith(EVERYONE_ELSE_PREFIX) ? 'everyone_else' : undefined);
  }

  private check(d: FlagDecision): SkipReason | undefined {
    if (!isValidDistinctId(d.userId)) return 'invalid_user_id';
    if (!d.ruleKey && !this.includeRuleless) return 'no_rule';
    if (!this.includeRollouts && (d.ruleKind === 'rollout' || d.ruleKind === 'everyone_else')) {
      return 'rollout_excluded';
    }
    if (!d.variationKey && d.enabled) return 'no_variation';
    return undefined;
  }

  private expose(d: FlagDecision, notification: DecisionNotification): NormalizeResult {
    const distinctId = d.userId as string;
    const flagKey = d.flagKey;
    const ruleKey = d.ruleKey ?? '';
    const variationKey = d.variationKey || 'off';
    if (this.deduplicator?.seen(distinctId, flagKey, ruleKey, variationKey, this.dedupClock())) {
      return { decision: d, skipReason: 'duplicate' };
    }
    const timestamp = this.now();
    const hash = hash128([distinctId, flagKey, ruleKey, variationKey]);

    // Same tuple in the same window bucket, in any process, gives the same id.
    this.fillRuleKind(d);
    const insertId = toHex(rehash(hash, Math.floor(timestamp / this.windowMs)));
    const profileName = this.profileName(flagKey);
    const profileValue = d.enabled ? truncateUtf8(variationKey) : 'off';
    const eventTime = timestamp - (timestamp % EVENT_TIME_STEP_MS);
    const events = this.buildEvents(d, distinctId, variationKey, ruleKey, eventTime, insertId, notification);
    const exposure: Exposure = {
      distinctId,
      flagKey,
      variationKey,
      ruleKey,
      ruleKind: d.ruleKind,
      enabled: d.enabled,
      decisionType: d.decisionType,
      decisionEventDispatched: d.decisionEventDispatched,
      timestamp,
      insertId,
      profileProperty: { name: profileName, value: profileValue },
      events,
      // A computed key defines an own property even for `__proto__`.
      profileUpdate: { $distinct_id: distinctId, $set: { [profileName]: profileValue } },
    };
    if (d.experimentId !== undefined) exposure.experimentId = d.experimentId;
    if (d.variationId !== undefined) exposure.variationId = d.variationId;
    return { exposure, decision: d };
  }

  private profileName(flagKey: string): string {
    let name = this.profileNames.get(flagKey);
    if (name === undefined) {
      name = truncateName(this.profilePrefix + flagKey);
      // Flag keys come from the datafile, so few; the cap only guards against hostile input.
      if (this.profileNames.size >= 10_000) this.profileNames.clear();
      this.profileNames.set(flagKey, name);
    }
    return name;
  }

  private buildEvents(
    d: FlagDecision,
    distinctId: string,
    variationKey: string,
    ruleKey: string,
    time: number,
    insertId: string,
    notification: DecisionNotification,
  ): MixpanelEvent[] {
    const flag = truncateUtf8(d.flagKey);
    const variation = truncateUtf8(variationKey);
    const rule = truncateUtf8(ruleKey);
    const attributes = this.attributeAllowlist.length > 0 ? this.pickAttributes(notification) : undefined;
    const events: MixpanelEvent[] = [];
    if (this.eventFormat !== 'experiment_started') {
      const properties: MixpanelEvent['properties'] = {
        distinct_id: distinctId,
        time,
        $insert_id: insertId,
        flag_key: flag,
        variation_key: variation,
        rule_key: rule,
        enabled: d.enabled,
      };
      // Letter prefixes keep 11+ digit ids from being flagged as card numbers.
      if (d.experimentId !== undefined) properties.experiment_id = truncateUtf8(`exp_${d.experimentId}`);
      if (d.variationId !== undefined) properties.variation_id = truncateUtf8(`var_${d.variationId}`);
      if (attributes) Object.assign(properties, attributes);
      events.push({ event: this.eventName, properties });
    }
    if (this.eventFormat !== 'experiment_viewed') {
      const properties: MixpanelEvent['properties'] = {
        distinct_id: distinctId,
        time,
        $insert_id: insertId,
        'Experiment name': rule || flag,
        'Variant name': variation,
        flag_key: flag,
      };
      if (attributes) Object.assign(properties, attributes);
      events.push({ event: '$experiment_started', properties });
    }
    return events;
  }

  private pickAttributes(notification: DecisionNotification): Record<string, PropertyValue> | undefined {
    const source = notification.attributes;
    if (source === null || typeof source !== 'object') return undefined;
    let picked: Record<string, PropertyValue> | undefined;
    for (const name of this.attributeAllowlist) {
      if (!Object.hasOwn(source, name)) continue;
      const value = source[name];
      let safe: PropertyValue | undefined;
      if (typeof value === 'string') safe = truncateUtf8(value);
      else if (typeof value === 'boolean') safe = value;
      else if (typeof value === 'number' && Number.isFinite(value)) safe = value;
      if (safe === undefined) continue;
      picked ??= {};
      picked[name] = safe;
    }
    return picked;
  }
}

function checkName(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MIXPANEL_LIMITS.maxNameLength) {
    throw new TypeError(`${option} must be a non-empty string of at most ${MIXPANEL_LIMITS.maxNameLength} characters`);
  }
  return value;
}

function checkAllowlist(list: readonly string[]): readonly string[] {
  if (!Array.isArray(list)) throw new TypeError('attributeAllowlist must be an array of attribute names');
  const max = MIXPANEL_LIMITS.maxPropertiesPerEvent - RESERVED_PROPERTIES.size;
  if (list.length > max) throw new TypeError(`attributeAllowlist allows at most ${max} names`);
  for (const name of list) {
    checkName('each attributeAllowlist entry', name);
    if (UNSAFE_KEYS.has(name) || RESERVED_PROPERTIES.has(name)) {
      throw new TypeError(`attributeAllowlist cannot include the reserved name ${JSON.stringify(name)}`);
    }
  }
  return [...list];
}

function asOptionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function asIdString(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Reads the decision fields the rules need, or the skip reason when there is none. */
function readDecision(notification: unknown, includeLegacy: boolean): FlagDecision | SkipReason {
  if (notification === null || typeof notification !== 'object') return 'invalid_notification';
  const n = notification as Partial<DecisionNotification>;
  const type = n.type;
  const info = n.decisionInfo;
  if (typeof type !== 'string' || info === null || typeof info !== 'object') return 'invalid_notification';

  if (type === 'flag') {
    const flagKey = info.flagKey;
    if (typeof flagKey !== 'string' || flagKey.length === 0) return 'invalid_flag_key';
    // One object shape for every decision: optional ids are present as undefined.
    return {
      decisionType: type,
      userId: n.userId,
      flagKey,
      variationKey: asOptionalString(info.variationKey),
      ruleKey: asOptionalString(info.ruleKey),
      ruleKind: undefined,
      enabled: info.enabled === true,
      experimentId: asIdString(info.experimentId),
      variationId: asIdString(info.variationId),
      decisionEventDispatched: info.decisionEventDispatched === true,
    };
  }

  const legacyVariation = LEGACY_VARIATION_TYPES.has(type);
  const legacyFeature = LEGACY_FEATURE_TYPES.has(type);
  if (!legacyVariation && !legacyFeature) return 'unsupported_type';
  if (!includeLegacy) return 'legacy_type';

  if (legacyVariation) {
    // activate()/getVariation(): an experiment without a flag; its key stands for both.
    const experimentKey = info.experimentKey;
    if (typeof experimentKey !== 'string' || experimentKey.length === 0) return 'invalid_flag_key';
    const variationKey = asOptionalString(info.variationKey);
    if (!variationKey) return 'no_variation';
    return {
      decisionType: type,
      userId: n.userId,
      flagKey: experimentKey,
      variationKey,
      ruleKey: experimentKey,
      ruleKind: 'experiment',
      enabled: true,
      experimentId: undefined,
      variationId: undefined,
      // activate() dispatches an impression, getVariation() does not; the payload cannot tell.
      decisionEventDispatched: false,
    };
  }

  // isFeatureEnabled()/getFeatureVariable*(): only feature tests name a variation.
  const featureKey = info.featureKey;
  if (typeof featureKey !== 'string' || featureKey.length === 0) return 'invalid_flag_key';
  const sourceInfo = info.sourceInfo as Record<string, unknown> | null | undefined;
  const variationKey = sourceInfo && typeof sourceInfo === 'object' ? asOptionalString(sourceInfo.variationKey) : null;
  const experimentKey =
    sourceInfo && typeof sourceInfo === 'object' ? asOptionalString(sourceInfo.experimentKey) : null;
  if (info.source !== 'feature-test' || !variationKey || !experimentKey) return 'no_variation';
  return {
    decisionType: type,
    userId: n.userId,
    flagKey: featureKey,
    variationKey,
    ruleKey: experimentKey,
    ruleKind: 'experiment',
    enabled: info.featureEnabled === true,
    experimentId: undefined,
    variationId: undefined,
    decisionEventDispatched: false,
  };
}
