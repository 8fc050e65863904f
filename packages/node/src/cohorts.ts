/**
 * Mixpanel cohorts as Optimizely segments: with `OPTIMIZELY_MIXPANEL_COHORTS`
 * (a cohort store file or a Redis URL) every user context an instrumented
 * client creates is qualified for the cohorts its user id belongs to, from a
 * local replica of the store (no I/O in `createUserContext`).
 */
import type { Meter } from '@opentelemetry/api';
import type { CohortReplica, CohortStore } from '@optimizely-mixpanel/cohorts';
import type { OptimizelyMixpanelInstrumentationConfig } from './types.js';

type CohortsModule = typeof import('@optimizely-mixpanel/cohorts');

/** `feature_flag.evaluation` attribute: the Mixpanel segments the decided rule's audiences matched. */
const ATTR_OPTIMIZELY_SEGMENTS = 'optimizely.segments';

/** Where cohorts come from and how they are named (`cohorts` option). */
export interface CohortTargetingConfig {
  /** A cohort store file written by `mixpanel-cohort-receiver`, or its `redis://` URL. */
  store: string;
  /** Segment name by Mixpanel cohort id, for cohorts that should not be `mixpanel_<cohort name>`. */
  segments?: Record<string, string>;
}

type EvaluationHook = NonNullable<OptimizelyMixpanelInstrumentationConfig['evaluationHook']>;

interface Logger {
  warn(message: string): void;
}

interface ClientLike {
  createUserContext?: unknown;
  getOptimizelyConfig?: () => { getDatafile?: () => string } | null;
  notificationCenter?: { addNotificationListener(type: string, listener: () => void): number };
}

/** Segments named by each flag's rules, from a datafile: flag key → rule key → segments. */
export function ruleSegments(datafile: string): Map<string, Map<string, string[]>> {
  const result = new Map<string, Map<string, string[]>>();
  // biome-ignore lint/suspicious/noExplicitAny: a datafile is untyped JSON.
  const data = JSON.parse(datafile) as any;
  const audiences = new Map<string, Set<string>>();
  const collect = (node: unknown, into: Set<string>) => {
    if (Array.isArray(node)) for (const n of node) collect(n, into);
    else if (node && typeof node === 'object') {
      const c = node as { match?: unknown; value?: unknown };
      if (c.match === 'qualified' && typeof c.value === 'string') into.add(c.value);
    }
  };
  for (const audience of [...(data.audiences ?? []), ...(data.typedAudiences ?? [])]) {
    const into = new Set<string>();
    let conditions: unknown = audience.conditions;
    if (typeof conditions === 'string') {
      try {
        conditions = JSON.parse(conditions);
      } catch {
        conditions = [];
      }
    }
    collect(conditions, into);
    if (into.size > 0 || !audiences.has(audience.id)) audiences.set(String(audience.id), into);
  }
  const ruleOf = (rule: { key: string; audienceIds?: string[]; audienceConditions?: unknown }) => {
    const ids = new Set<string>((rule.audienceIds ?? []).map(String));
    const walk = (n: unknown) => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (typeof n === 'string' && audiences.has(n)) ids.add(n);
    };
    walk(rule.audienceConditions);
    const segments = new Set<string>();
    for (const id of ids) for (const s of audiences.get(id) ?? []) segments.add(s);
    return [...segments];
  };
  const experiments = new Map<string, { key: string }>();
  for (const e of data.experiments ?? []) experiments.set(String(e.id), e);
  for (const g of data.groups ?? []) for (const e of g.experiments ?? []) experiments.set(String(e.id), e);
  const rollouts = new Map<string, Array<{ key: string }>>();
  for (const r of data.rollouts ?? []) rollouts.set(String(r.id), r.experiments ?? []);
  for (const flag of data.featureFlags ?? []) {
    const rules = new Map<string, string[]>();
    const all = [
      ...(flag.experimentIds ?? []).map((id: string) => experiments.get(String(id))),
      ...(rollouts.get(String(flag.rolloutId)) ?? []),
    ];
    for (const rule of all) {
      if (!rule) continue;
      const segments = ruleOf(rule);
      if (segments.length > 0) rules.set(rule.key, segments);
    }
    if (rules.size > 0) result.set(flag.key, rules);
  }
  return result;
}

/**
 * Qualifies user contexts of instrumented clients for their Mixpanel cohorts,
 * and tells which of them a decision relied on.
 */
export class CohortTargeting {
  private readonly store: CohortStore;
  private readonly replica: CohortReplica;
  /** Rule segments of every instrumented client's datafile (merged: flag keys are project-wide). */
  private rules = new Map<string, Map<string, string[]>>();
  private readonly clients = new WeakSet<object>();
  private readonly lib: CohortsModule;

  constructor(
    readonly config: CohortTargetingConfig,
    meter: Meter,
    log: Logger,
  ) {
    let lastWarning = 0;
    const warn = (message: string) => {
      if (Date.now() - lastWarning < 60_000) return; // one line a minute while the store is unreachable
      lastWarning = Date.now();
      log.warn(message);
    };
    // Loaded only when cohorts are on: the preload of every other application stays as light as before.
    const lib = require('@optimizely-mixpanel/cohorts') as CohortsModule;
    this.lib = lib;
    const where = lib.describeLocation(config.store);
    this.store = lib.openCohortStore(config.store, {
      unref: true,
      onError: (error) => warn(`cohort store ${where}: ${error.message}; user contexts keep the cohorts last read`),
    });
    this.replica = new lib.CohortReplica(this.store, {
      meter,
      ...(config.segments ? { segments: config.segments } : {}),
      onError: (error) =>
        warn(`cohort store ${where} not read: ${error.message}; user contexts keep the cohorts last read`),
    });
  }

  /** Resolves once the replica has read the store once (successfully or not). */
  ready(): Promise<void> {
    return this.replica.ready();
  }

  /** The segments a user id is qualified for, or undefined. */
  segmentsFor(userId: string): readonly string[] | undefined {
    return this.replica.segmentsFor(userId);
  }

  /** Reads the store now (the replica also follows it by itself). Never rejects. */
  refresh(): Promise<void> {
    return this.replica.refresh();
  }

  /** The replica's change count: lets a caller wait for a change to arrive. */
  get version(): number {
    return this.replica.version;
  }

  /**
   * Wraps the client's `createUserContext` (once) with `lookup`, which the
   * instrumentation points at its current replica, and reads the segments the
   * client's rules name. Idempotent.
   */
  instrument(
    client: unknown,
    lookup: (userId: string) => readonly string[] | undefined,
    configUpdateType: string,
  ): boolean {
    if (!client || typeof client !== 'object') return false;
    if (this.clients.has(client)) return true;
    if (!this.lib.instrumentUserContexts(client, lookup)) return false;
    this.clients.add(client);
    const c = client as ClientLike;
    this.readRules(c);
    try {
      c.notificationCenter?.addNotificationListener(configUpdateType, () => this.readRules(c));
    } catch {
      // without the listener, the rules of the first datafile stay in use
    }
    return true;
  }

  /**
   * The segments among `userId`'s cohorts that the decided rule's audiences
   * name: the cohorts this decision relied on.
   */
  reliedOn(userId: unknown, flagKey: string, ruleKey: string | null): string[] | undefined {
    if (typeof userId !== 'string' || !ruleKey) return undefined;
    const named = this.rules.get(flagKey)?.get(ruleKey);
    if (!named) return undefined;
    const own = this.replica.segmentsFor(userId);
    if (!own) return undefined;
    const hit = named.filter((s) => own.includes(s));
    return hit.length > 0 ? hit : undefined;
  }

  /**
   * The configuration with an `evaluationHook` that adds `optimizely.segments`
   * (the cohorts the decision relied on) to each `feature_flag.evaluation`,
   * before the application's own hook sees the attributes.
   */
  withEvaluationAttributes<T extends { evaluationHook?: EvaluationHook }>(config: T): T {
    const own = config.evaluationHook;
    const evaluationHook: EvaluationHook = (attributes, decision, span) => {
      try {
        const segments = this.reliedOn(decision.userId, decision.flagKey, decision.ruleKey);
        if (segments) attributes[ATTR_OPTIMIZELY_SEGMENTS] = segments.join(',');
      } catch {
        // the attribute is lost, the evaluation is still recorded
      }
      own?.(attributes, decision, span);
    };
    return { ...config, evaluationHook };
  }

  /** Stops following the store and closes its connections. */
  async shutdown(): Promise<void> {
    this.replica.close();
    await this.store.close().catch(() => {});
  }

  private readRules(client: ClientLike): void {
    try {
      const datafile = client.getOptimizelyConfig?.()?.getDatafile?.();
      if (!datafile) return;
      const merged = new Map(this.rules);
      for (const [flag, rules] of ruleSegments(datafile)) merged.set(flag, rules);
      this.rules = merged;
    } catch {
      // an unreadable datafile only loses the span attribute
    }
  }
}

/** Reads the `cohorts` option (a location or a config object); undefined when cohorts are off. */
export function cohortConfig(option: string | CohortTargetingConfig | undefined): CohortTargetingConfig | undefined {
  if (option === undefined) return undefined;
  const config = typeof option === 'string' ? { store: option } : option;
  if (!config.store?.trim()) return undefined;
  return config;
}

/**
 * Parses `OPTIMIZELY_MIXPANEL_COHORT_SEGMENTS` (`<cohort id>=<segment>,...`).
 * Never throws: an invalid value is reported through `warn` (by name, never
 * echoing the value) and ignored, so cohorts keep their default names.
 */
export function parseSegmentMap(
  name: string,
  value: string | undefined,
  warn: (message: string) => void,
): Record<string, string> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const map: Record<string, string> = {};
  for (const entry of value.split(',')) {
    const [id, segment, extra] = entry.split('=').map((s) => s.trim());
    if (!id || !segment || extra !== undefined) {
      warn(`${name} must be <cohort id>=<segment>[,...]; its value is ignored and cohorts are named mixpanel_<name>`);
      return undefined;
    }
    map[id] = segment;
  }
  return map;
}
