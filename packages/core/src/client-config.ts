import type { ClientConfig, RuleKind } from './types.js';

interface OptimizelyConfigLike {
  environmentKey?: string;
  revision?: string;
  featuresMap?: Record<string, { experimentRules?: Array<{ key: string }>; deliveryRules?: Array<{ key: string }> }>;
}

/** After a throwing `getOptimizelyConfig`, decisions between two attempts to read it again. */
const RETRY_AFTER = 1000;

/** One client's config, read once per datafile: see {@link clientConfigCache}. */
export interface ClientConfigCache {
  /** The config, or undefined while the client has none (or its reads fail). */
  get(): ClientConfig | undefined;
  /** Forgets the cached config; the next decision reads the new datafile's. */
  invalidate(): void;
}

/**
 * Reads a client's OptimizelyConfig once and keeps it until the SDK announces a
 * new datafile (OPTIMIZELY_CONFIG_UPDATE → `invalidate`), so a decision never
 * pays for it. Never throws: a client whose `getOptimizelyConfig` throws gives
 * no config (decisions are still handled, with rule kinds from rule keys alone)
 * and is asked again only every thousand decisions. `onError` is told of each
 * failed read (the caller rate-limits its warning).
 */
export function clientConfigCache(
  client: { getOptimizelyConfig?: () => unknown },
  onError?: (error: unknown) => void,
): ClientConfigCache {
  let cached: ClientConfig | undefined;
  let skipReads = 0;
  return {
    get() {
      if (!cached && --skipReads < 0) {
        try {
          const config = client.getOptimizelyConfig?.() as OptimizelyConfigLike | null | undefined;
          if (config) cached = build(config);
        } catch (error) {
          skipReads = RETRY_AFTER;
          try {
            onError?.(error);
          } catch {
            // Runs inside decide(): a throwing reporter changes nothing.
          }
        }
      }
      return cached;
    },
    invalidate() {
      cached = undefined;
      skipReads = 0;
    },
  };
}

function build(config: OptimizelyConfigLike): ClientConfig {
  const ruleKinds = new Map<string, Map<string, RuleKind>>();
  for (const [flagKey, flag] of Object.entries(config.featuresMap ?? {})) {
    const rules = new Map<string, RuleKind>();
    for (const rule of flag?.experimentRules ?? []) rules.set(rule.key, 'experiment');
    for (const rule of flag?.deliveryRules ?? []) {
      rules.set(rule.key, rule.key.startsWith('default-rollout-') ? 'everyone_else' : 'rollout');
    }
    ruleKinds.set(flagKey, rules);
  }
  return { environmentKey: nonEmpty(config.environmentKey), revision: nonEmpty(config.revision), ruleKinds };
}

/** `value` when it is a non-empty string, else undefined. */
export function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
