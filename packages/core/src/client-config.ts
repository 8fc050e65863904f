import type { ClientConfig, RuleKind } from './types.js';

interface OptimizelyConfigLike {
  environmentKey?: string;
  revision?: string;
  featuresMap?: Record<string, { experimentRules?: Array<{ key: string }>; deliveryRules?: Array<{ key: string }> }>;
}

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
 * and is asked again only after the next datafile: the same one would throw
 * again. `onError` is told of each failed read (the caller rate-limits its warning).
 */
export function clientConfigCache(
  client: { getOptimizelyConfig?: () => unknown },
  onError?: (error: unknown) => void,
): ClientConfigCache {
  let cached: ClientConfig | undefined;
  let failed = false;
  return {
    get() {
      if (!cached && !failed) {
        try {
          const config = client.getOptimizelyConfig?.() as OptimizelyConfigLike | null | undefined;
          if (config) cached = build(config);
        } catch (error) {
          failed = true;
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
      failed = false;
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
