import type { ClientConfig, RuleKind } from './types.js';

interface OptimizelyConfigLike {
  environmentKey?: string;
  revision?: string;
  featuresMap?: Record<string, { experimentRules?: Array<{ key: string }>; deliveryRules?: Array<{ key: string }> }>;
}

/** After a throwing `getOptimizelyConfig`, decisions between two attempts to read it again. */
const RETRY_AFTER = 1000;

/**
 * Reads a client's OptimizelyConfig once and keeps it until the SDK announces a
 * new datafile (OPTIMIZELY_CONFIG_UPDATE → {@link invalidate}), so a decision
 * never pays for it. Never throws: a client whose `getOptimizelyConfig` throws
 * gives no config (decisions are still handled, with rule kinds from rule keys
 * alone) and is asked again only every thousand decisions.
 */
export class ClientConfigCache {
  // Private names: a bundler's minifier shortens them, which it cannot do for properties.
  #client: { getOptimizelyConfig?: () => unknown };
  #onError: ((error: unknown) => void) | undefined;
  #cached: ClientConfig | undefined;
  #skipReads = 0;

  /** @param onError told of each failed read (the caller rate-limits its warning). */
  constructor(client: { getOptimizelyConfig?: () => unknown }, onError?: (error: unknown) => void) {
    this.#client = client;
    this.#onError = onError;
  }

  /** Forgets the cached config; the next decision reads the new datafile's. */
  invalidate(): void {
    this.#cached = undefined;
    this.#skipReads = 0;
  }

  get(): ClientConfig | undefined {
    // After a failed read, `#skipReads` counts down the decisions until the next attempt.
    if (!this.#cached && --this.#skipReads < 0) {
      try {
        const config = this.#client.getOptimizelyConfig?.() as OptimizelyConfigLike | null | undefined;
        // Not ready yet: read again on the next decision.
        if (config) this.#cached = build(config);
      } catch (error) {
        this.#skipReads = RETRY_AFTER;
        try {
          this.#onError?.(error);
        } catch {
          // Runs inside decide(): a throwing reporter changes nothing.
        }
      }
    }
    return this.#cached;
  }
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
