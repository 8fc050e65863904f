import type { EventFormat, RolloutMode } from '@optimizely-mixpanel/core';
import type { MixpanelRegion } from '@optimizely-mixpanel/exporter';
import { parseSegmentMap } from './cohorts.js';
import type { ContextIdPolicy, OptimizelyMixpanelInstrumentationConfig } from './types.js';

/** The environment variables read, with what they set. Documented in the README. */
export const ENVIRONMENT_VARIABLES = {
  MIXPANEL_TOKEN: 'token',
  MIXPANEL_API_HOST: 'apiHost',
  OPTIMIZELY_MIXPANEL_REGION: 'region',
  OPTIMIZELY_MIXPANEL_EVENT_FORMAT: 'eventFormat',
  OPTIMIZELY_MIXPANEL_ROLLOUTS: 'rollouts',
  OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS: 'dedupWindowMs',
  OPTIMIZELY_MIXPANEL_DEDUP_MAX_ENTRIES: 'dedupMaxEntries',
  OPTIMIZELY_MIXPANEL_INCLUDE_LEGACY: 'includeLegacyTypes',
  OPTIMIZELY_MIXPANEL_ATTRIBUTES: 'attributeAllowlist',
  OPTIMIZELY_MIXPANEL_SPAN_EVENTS: 'spanEvents',
  OPTIMIZELY_MIXPANEL_DECISION_SPANS: 'decisionSpans',
  OPTIMIZELY_MIXPANEL_TRACE_IDS: 'traceIds',
  OPTIMIZELY_MIXPANEL_CONTEXT_ID: 'contextId',
  OPTIMIZELY_MIXPANEL_CONTEXT_ID_KEY: 'contextIdKey',
  OPTIMIZELY_MIXPANEL_ENABLED: 'enabled',
  OPTIMIZELY_MIXPANEL_COHORTS: 'cohorts',
  OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS: 'cohorts.segments',
} as const;

type Warn = (message: string) => void;

// Messages name the variable and what it accepts, never the value: a misplaced secret must not reach a log.
function bool(name: string, value: string | undefined, warn: Warn, fallback: string): boolean | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  warn(`${name} must be true or false; its value is ignored and the default (${fallback}) applies`);
  return undefined;
}

function int(name: string, value: string | undefined, warn: Warn, fallback: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value.trim());
  if (Number.isSafeInteger(n) && n >= 0) return n;
  warn(`${name} must be a whole number >= 0; its value is ignored and the default (${fallback}) applies`);
  return undefined;
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  warn: Warn,
  fallback: string,
): T | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim().toLowerCase() as T;
  if (allowed.includes(v)) return v;
  warn(`${name} must be one of ${allowed.join(', ')}; its value is ignored and the default (${fallback}) applies`);
  return undefined;
}

/**
 * Reads the configuration from environment variables. Unset variables are
 * left out so that code configuration and defaults apply. Never throws: an
 * invalid value is reported through `warn` (by variable name, never echoing
 * the value) and left out, so its default applies. An invalid region is the
 * exception: it decides where data goes, so it turns export off rather than
 * sending to the default region.
 */
export function configFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  warn: Warn = () => {},
): OptimizelyMixpanelInstrumentationConfig {
  const config: OptimizelyMixpanelInstrumentationConfig = {};
  const set = <K extends keyof OptimizelyMixpanelInstrumentationConfig>(
    key: K,
    value: OptimizelyMixpanelInstrumentationConfig[K] | undefined,
  ) => {
    if (value !== undefined) config[key] = value;
  };
  set('token', env.MIXPANEL_TOKEN?.trim() || undefined);
  set('apiHost', env.MIXPANEL_API_HOST?.trim() || undefined);
  const region = env.OPTIMIZELY_MIXPANEL_REGION?.trim().toLowerCase();
  if (region) {
    if ((['us', 'eu', 'in'] as const).includes(region as MixpanelRegion)) config.region = region as MixpanelRegion;
    else {
      warn('OPTIMIZELY_MIXPANEL_REGION must be one of us, eu, in: Mixpanel export is off rather than sent elsewhere');
      config.region = 'invalid' as MixpanelRegion;
    }
  }
  const e = env;
  set(
    'eventFormat',
    oneOf<EventFormat>(
      'OPTIMIZELY_MIXPANEL_EVENT_FORMAT',
      e.OPTIMIZELY_MIXPANEL_EVENT_FORMAT,
      ['experiment_viewed', 'experiment_started', 'both'],
      warn,
      'experiment_viewed',
    ),
  );
  set(
    'rollouts',
    oneOf<RolloutMode>(
      'OPTIMIZELY_MIXPANEL_ROLLOUTS',
      e.OPTIMIZELY_MIXPANEL_ROLLOUTS,
      ['event', 'profile', 'off'],
      warn,
      'profile',
    ),
  );
  set(
    'dedupWindowMs',
    int('OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS', e.OPTIMIZELY_MIXPANEL_DEDUP_WINDOW_MS, warn, '1800000'),
  );
  set(
    'dedupMaxEntries',
    int('OPTIMIZELY_MIXPANEL_DEDUP_MAX_ENTRIES', e.OPTIMIZELY_MIXPANEL_DEDUP_MAX_ENTRIES, warn, '100000'),
  );
  set(
    'includeLegacyTypes',
    bool('OPTIMIZELY_MIXPANEL_INCLUDE_LEGACY', e.OPTIMIZELY_MIXPANEL_INCLUDE_LEGACY, warn, 'false'),
  );
  const attributes = e.OPTIMIZELY_MIXPANEL_ATTRIBUTES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  set('attributeAllowlist', attributes?.length ? attributes : undefined);
  set('spanEvents', bool('OPTIMIZELY_MIXPANEL_SPAN_EVENTS', e.OPTIMIZELY_MIXPANEL_SPAN_EVENTS, warn, 'true'));
  set('decisionSpans', bool('OPTIMIZELY_MIXPANEL_DECISION_SPANS', e.OPTIMIZELY_MIXPANEL_DECISION_SPANS, warn, 'false'));
  set('traceIds', bool('OPTIMIZELY_MIXPANEL_TRACE_IDS', e.OPTIMIZELY_MIXPANEL_TRACE_IDS, warn, 'true'));
  set(
    'contextId',
    oneOf<ContextIdPolicy>(
      'OPTIMIZELY_MIXPANEL_CONTEXT_ID',
      e.OPTIMIZELY_MIXPANEL_CONTEXT_ID,
      ['hashed', 'raw', 'none'],
      warn,
      'hashed',
    ),
  );
  set('contextIdKey', e.OPTIMIZELY_MIXPANEL_CONTEXT_ID_KEY || undefined);
  set('enabled', bool('OPTIMIZELY_MIXPANEL_ENABLED', e.OPTIMIZELY_MIXPANEL_ENABLED, warn, 'true'));
  const cohorts = e.OPTIMIZELY_MIXPANEL_COHORTS?.trim();
  const segments = parseSegmentMap('OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS', e.OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS, warn);
  if (cohorts) set('cohorts', segments ? { store: cohorts, segments } : cohorts);
  return config;
}
