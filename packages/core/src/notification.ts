import { nonEmpty } from './client-config.js';
import type { ClientConfig, DecisionNotification, FlagDecision, RuleKind, SkipReason } from './types.js';

const LEGACY_VARIATION_TYPES = new Set(['ab-test', 'feature-test']);
const LEGACY_TYPES = new Set(['ab-test', 'feature-test', 'feature', 'feature-variable', 'all-feature-variables']);
const EVERYONE_ELSE_PREFIX = 'default-rollout-';

/**
 * The rule kind of `ruleKey` in flag `flagKey`: from the client's datafile when
 * it is known, else `everyone_else` for `default-rollout-*` rules, else `unknown`.
 */
export function ruleKindOf(config: ClientConfig | undefined, flagKey: string, ruleKey: string | null): RuleKind {
  if (!ruleKey) return 'unknown';
  const known = config?.ruleKinds.get(flagKey)?.get(ruleKey);
  if (known !== undefined) return known;
  return ruleKey.startsWith(EVERYONE_ELSE_PREFIX) ? 'everyone_else' : 'unknown';
}

/** Reads a legacy decision (`activate`, `isFeatureEnabled`, ...): see {@link readLegacyDecision}. */
export type LegacyReader = (type: string, userId: unknown, info: Record<string, unknown>) => FlagDecision | SkipReason;

/**
 * Reads the decision in one DECISION notification, with its rule kind resolved
 * against `config`, or the reason there is none. Legacy types are read by
 * `legacy` when given, else skipped. May throw on hostile payloads (throwing
 * getters): the caller contains it.
 */
export function readNotification(
  notification: unknown,
  legacy: LegacyReader | undefined,
  config: ClientConfig | undefined,
): FlagDecision | SkipReason {
  // Optional reads: a primitive or null has no string `type`.
  const n = notification as Partial<DecisionNotification> | null | undefined;
  const type = n?.type;
  const info = n?.decisionInfo;
  if (typeof type !== 'string' || info === null || typeof info !== 'object') return 'invalid_notification';

  if (type === 'flag') {
    const flagKey = info.flagKey;
    if (typeof flagKey !== 'string' || !flagKey) return 'invalid_flag_key';
    const ruleKey = asOptionalString(info.ruleKey);
    // One object shape for every decision: optional ids are present as undefined.
    return {
      decisionType: type,
      userId: n?.userId,
      flagKey,
      variationKey: asOptionalString(info.variationKey),
      ruleKey,
      ruleKind: ruleKindOf(config, flagKey, ruleKey),
      enabled: info.enabled === true,
      experimentId: asIdString(info.experimentId),
      variationId: asIdString(info.variationId),
      decisionEventDispatched: info.decisionEventDispatched === true,
    };
  }

  return legacy ? legacy(type, n?.userId, info) : LEGACY_TYPES.has(type) ? 'legacy_type' : 'unsupported_type';
}

/**
 * Maps the legacy decision types that name a variation: `activate()` and
 * `getVariation()` (`feature-test`, `ab-test`: the experiment key stands for
 * flag and rule), and `isFeatureEnabled()`/`getFeatureVariable*()` of feature
 * tests. Pass it as `legacy` to {@link DecisionPipeline}; kept apart so that
 * bundles without it stay small.
 */
export const readLegacyDecision: LegacyReader = (type, userId, info) => {
  if (LEGACY_VARIATION_TYPES.has(type)) {
    // activate()/getVariation(): an experiment without a flag; its key stands for both.
    const experimentKey = info.experimentKey;
    if (typeof experimentKey !== 'string' || experimentKey.length === 0) return 'invalid_flag_key';
    const variationKey = asOptionalString(info.variationKey);
    if (!variationKey) return 'no_variation';
    return legacy(type, userId, experimentKey, variationKey, experimentKey, true);
  }
  if (!LEGACY_TYPES.has(type)) return 'unsupported_type';
  // isFeatureEnabled()/getFeatureVariable*(): only feature tests name a variation.
  const featureKey = info.featureKey;
  if (typeof featureKey !== 'string' || featureKey.length === 0) return 'invalid_flag_key';
  const sourceInfo = info.sourceInfo as Record<string, unknown> | null | undefined;
  const source = sourceInfo && typeof sourceInfo === 'object' ? sourceInfo : undefined;
  const variationKey = asOptionalString(source?.variationKey);
  const experimentKey = asOptionalString(source?.experimentKey);
  if (info.source !== 'feature-test' || !variationKey || !experimentKey) return 'no_variation';
  return legacy(type, userId, featureKey, variationKey, experimentKey, info.featureEnabled === true);
};

function legacy(
  type: string,
  userId: unknown,
  flagKey: string,
  variationKey: string,
  ruleKey: string,
  enabled: boolean,
): FlagDecision {
  return {
    decisionType: type,
    userId,
    flagKey,
    variationKey,
    ruleKey,
    ruleKind: 'experiment',
    enabled,
    experimentId: undefined,
    variationId: undefined,
    // activate() dispatches an impression, getVariation() does not; the payload cannot tell.
    decisionEventDispatched: false,
  };
}

function asOptionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function asIdString(value: unknown): string | undefined {
  return Number.isFinite(value) ? String(value) : nonEmpty(value);
}
