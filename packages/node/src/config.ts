import type { EventFormat } from '@optimizely-mixpanel/core';
import type { MixpanelRegion } from '@optimizely-mixpanel/exporter';
import { parseSegmentMap } from './cohorts.js';
import type { ContextIdPolicy, OptimizelyMixpanelInstrumentationConfig } from './types.js';

/** The environment variables read, with what they set. Documented in the README. */
export const ENVIRONMENT_VARIABLES = {
  MIXPANEL_TOKEN: 'token',
  MIXPANEL_API_HOST: 'apiHost',
  OPTIMIZELY_MIXPANEL_REGION: 'region',
  OPTIMIZELY_MIXPANEL_EVENT_FORMAT: 'eventFormat',
  OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS: 'dedupWindowMs',
  OPTIMIZELY_MIXPANEL_DEDUP_MAX_ENTRIES: 'dedupMaxEntries',
  OPTIMIZELY_MIXPANEL_INCLUDE_ROLLOUTS: 'includeRollouts',
  OPTIMIZELY_MIXPANEL_INCLUDE_LEGACY: 'includeLegacyTypes',
  OPTIMIZELY_MIXPANEL_ATTRIBUTES: 'attributeAllowlist',
  OPTIMIZELY_MIXPANEL_SPAN_EVENTS: 'spanEvents',
  OPTIMIZELY_MIXPANEL_DECISION_SPANS: 'decisionSpans',
  OPTIMIZELY_MIXPANEL_CONTEXT_ID: 'contextId',
  OPTIMIZELY_MIXPANEL_ENABLED: 'enabled',
  OPTIMIZELY_MIXPANEL_COHORTS: 'cohorts',
  OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS: 'cohorts.segments',
} as const;

function bool(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new TypeError(`${name} must be true or false; got ${JSON.stringify(value)}`);
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new TypeError(`${name} must be a whole number >= 0; got ${JSON.stringify(value)}`);
  return n;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value as T)) {
    throw new TypeError(`${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/**
 * Reads the configuration from environment variables. Unset variables are
 * left out so that code configuration and defaults apply.
 * @throws TypeError naming the variable when a value is invalid.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): OptimizelyMixpanelInstrumentationConfig {
  const config: OptimizelyMixpanelInstrumentationConfig = {};
  const set = <K extends keyof OptimizelyMixpanelInstrumentationConfig>(
    key: K,
    value: OptimizelyMixpanelInstrumentationConfig[K] | undefined,
  ) => {
    if (value !== undefined) config[key] = value;
  };
  set('token', env.MIXPANEL_TOKEN?.trim() || undefined);
  set('apiHost', env.MIXPANEL_API_HOST?.trim() || undefined);
  set(
    'region',
    oneOf<MixpanelRegion>('OPTIMIZELY_MIXPANEL_REGION', env.OPTIMIZELY_MIXPANEL_REGION, ['us', 'eu', 'in']),
  );
  set(
    'eventFormat',
    oneOf<EventFormat>('OPTIMIZELY_MIXPANEL_EVENT_FORMAT', env.OPTIMIZELY_MIXPANEL_EVENT_FORMAT, [
      'experiment_viewed',
      'experiment_started',
      'both',
    ]),
  );
  set('dedupWindowMs', int('OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS', env.OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS));
  set('dedupMaxEntries', int('OPTIMIZELY_MIXPANEL_DEDUP_MAX_ENTRIES', env.OPTIMIZELY_MIXPANEL_DEDUP_MAX_ENTRIES));
  set('includeRollouts', bool('OPTIMIZELY_MIXPANEL_INCLUDE_ROLLOUTS', env.OPTIMIZELY_MIXPANEL_INCLUDE_ROLLOUTS));
  set('includeLegacyTypes', bool('OPTIMIZELY_MIXPANEL_INCLUDE_LEGACY', env.OPTIMIZELY_MIXPANEL_INCLUDE_LEGACY));
  const attributes = env.OPTIMIZELY_MIXPANEL_ATTRIBUTES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  set('attributeAllowlist', attributes?.length ? attributes : undefined);
  set('spanEvents', bool('OPTIMIZELY_MIXPANEL_SPAN_EVENTS', env.OPTIMIZELY_MIXPANEL_SPAN_EVENTS));
  set('decisionSpans', bool('OPTIMIZELY_MIXPANEL_DECISION_SPANS', env.OPTIMIZELY_MIXPANEL_DECISION_SPANS));
  set(
    'contextId',
    oneOf<ContextIdPolicy>('OPTIMIZELY_MIXPANEL_CONTEXT_ID', env.OPTIMIZELY_MIXPANEL_CONTEXT_ID, [
      'hashed',
      'raw',
      'none',
    ]),
  );
  set('enabled', bool('OPTIMIZELY_MIXPANEL_ENABLED', env.OPTIMIZELY_MIXPANEL_ENABLED));
  const cohorts = env.OPTIMIZELY_MIXPANEL_COHORTS?.trim();
  const segments = parseSegmentMap('OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS', env.OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS);
  if (cohorts) set('cohorts', segments ? { store: cohorts, segments } : cohorts);
  return config;
}
