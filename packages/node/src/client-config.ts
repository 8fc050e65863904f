import type { RuleKind } from '@optimizely-mixpanel/core';

interface OptimizelyConfigLike {
  environmentKey?: string;
  revision?: string;
  featuresMap?: Record<string, { experimentRules?: Array<{ key: string }>; deliveryRules?: Array<{ key: string }> }>;
}

/** What telemetry needs from a client's datafile: rule kinds, environment key, revision. */
export interface ClientConfig {
  environmentKey: string | undefined;
  revision: string | undefined;
  /** Rule kind by flag key, then rule key: nested so lookups reuse the SDK's strings and their cached hashes. */
  ruleKinds: Map<string, Map<string, RuleKind>>;
}

/**
 * Reads a client's OptimizelyConfig once and keeps it until the SDK announces a
 * new datafile (OPTIMIZELY_CONFIG_UPDATE), so a decision never pays for it.
 */
export class ClientConfigCache {
  private cached: ClientConfig | undefined;

  constructor(private readonly client: { getOptimizelyConfig?: () => unknown }) {}

  /** Forgets the cached config; the next decision reads the new datafile's. */
  invalidate(): void {
    this.cached = undefined;
  }

  get(): ClientConfig | undefined {
    if (this.cached) return this.cached;
    const config = this.client.getOptimizelyConfig?.() as OptimizelyConfigLike | null | undefined;
    if (!config) return undefined; // not ready yet: read again on the next decision
    const ruleKinds = new Map<string, Map<string, RuleKind>>();
    for (const [flagKey, flag] of Object.entries(config.featuresMap ?? {})) {
      const rules = new Map<string, RuleKind>();
      for (const rule of flag.experimentRules ?? []) rules.set(rule.key, 'experiment');
      for (const rule of flag.deliveryRules ?? []) {
        rules.set(rule.key, rule.key.startsWith('default-rollout-') ? 'everyone_else' : 'rollout');
      }
      ruleKinds.set(flagKey, rules);
    }
    this.cached = {
      environmentKey: config.environmentKey || undefined,
      revision: config.revision || undefined,
      ruleKinds,
    };
    return this.cached;
  }
}
