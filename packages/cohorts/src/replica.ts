import { type Attributes, type Meter, metrics, type ObservableResult } from '@opentelemetry/api';
import { segmentName } from './segment.js';
import { ATTR_MIXPANEL_COHORT_ID, ATTR_OPTIMIZELY_SEGMENT, METRIC_COHORT_MEMBERS } from './semconv.js';
import type { CohortStore } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/** Options of {@link CohortReplica}. */
export interface CohortReplicaOptions {
  /** Explicit segment names by Mixpanel cohort id; other cohorts get `mixpanel_<name>`. */
  segments?: Record<string, string>;
  /** Meter for `mixpanel.cohort.members` (default: the global meter provider's). */
  meter?: Meter;
  /** Called when a refresh fails; the replica keeps serving what it had. */
  onError?: (error: Error) => void;
}

interface LoadedCohort {
  name: string;
  segment: string;
  version: number;
  count: number;
}

const EMPTY: readonly string[] = Object.freeze([]);

/**
 * A process-local copy of every cohort, indexed by `mixpanel_distinct_id`, so
 * that looking up a user's segments is one Map read and never waits on the
 * network or the disk. It follows the store (pub/sub or polling) and reloads
 * only the cohorts whose version changed.
 *
 * Memory: one entry per distinct member; users in the same cohorts share one
 * frozen array of segment names.
 */
export class CohortReplica {
  private readonly index = new Map<string, readonly string[]>();
  private readonly loaded = new Map<string, LoadedCohort>();
  /** Interned segment lists, by their joined names. */
  private readonly lists = new Map<string, readonly string[]>();
  private readonly stopWatching: () => void;
  private readonly stopObserving: () => void;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly firstLoad: Promise<void>;
  private versionSeen = 0;
  private readonly onError: (error: Error) => void;

  constructor(
    private readonly store: CohortStore,
    private readonly options: CohortReplicaOptions = {},
  ) {
    this.onError = options.onError ?? (() => {});
    this.loadSync();
    this.stopWatching = store.watch(() => void this.refresh());
    this.firstLoad = this.refresh();
    const meter = options.meter ?? metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    const gauge = meter.createObservableGauge(METRIC_COHORT_MEMBERS, {
      description: 'Members of each Mixpanel cohort in the local replica',
      unit: '{member}',
    });
    const observe = (result: ObservableResult<Attributes>) => {
      for (const [id, cohort] of this.loaded) {
        result.observe(cohort.count, { [ATTR_MIXPANEL_COHORT_ID]: id, [ATTR_OPTIMIZELY_SEGMENT]: cohort.segment });
      }
    };
    gauge.addCallback(observe);
    this.stopObserving = () => gauge.removeCallback(observe);
  }

  /** The segments of a user, or undefined when the user is in no cohort. Synchronous and allocation-free. */
  segmentsFor(distinctId: string): readonly string[] | undefined {
    return this.index.get(distinctId);
  }

  /** Resolves after the first load (whether it succeeded or not). */
  ready(): Promise<void> {
    return this.firstLoad;
  }

  /** How many refreshes changed the replica: lets callers wait for a change. */
  get version(): number {
    return this.versionSeen;
  }

  /** Every loaded cohort with its segment and member count. */
  cohorts(): Array<{ id: string; name: string; segment: string; count: number }> {
    return [...this.loaded].map(([id, c]) => ({ id, name: c.name, segment: c.segment, count: c.count }));
  }

  /** Reads the store again (coalesced with a refresh under way). Never rejects. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          await this.load();
        } catch (error) {
          this.onError(error as Error);
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Stops following the store (the store itself is closed by its owner). */
  close(): void {
    this.closed = true;
    this.stopWatching();
    this.stopObserving();
  }

  private segmentOf(id: string, name: string): string {
    return this.options.segments?.[id] ?? segmentName(name);
  }

  /** A store that can read synchronously (a local file) fills the replica before the first user context. */
  private loadSync(): void {
    if (!this.store.snapshotSync) return;
    try {
      for (const cohort of this.store.snapshotSync()) {
        const segment = this.segmentOf(cohort.id, cohort.name);
        this.update(
          cohort.id,
          { name: cohort.name, segment, version: cohort.version, count: cohort.members.length },
          cohort.members,
        );
      }
      if (this.loaded.size > 0) this.versionSeen++;
    } catch (error) {
      this.onError(error as Error);
    }
  }

  private async load(): Promise<void> {
    if (this.closed) return;
    const infos = await this.store.cohorts();
    const seen = new Set<string>();
    let changed = false;
    for (const info of infos) {
      seen.add(info.id);
      const current = this.loaded.get(info.id);
      const segment = this.segmentOf(info.id, info.name);
      if (current && current.version === info.version && current.segment === segment) continue;
      const members = await this.store.members(info.id);
      if (this.closed) return;
      this.update(info.id, { name: info.name, segment, version: info.version, count: members.length }, members);
      changed = true;
    }
    for (const id of [...this.loaded.keys()]) {
      if (!seen.has(id)) {
        this.update(id, undefined, []);
        changed = true;
      }
    }
    if (changed) this.versionSeen++;
  }

  /** Swaps one cohort's membership into the index, touching only members that changed. */
  private update(id: string, next: LoadedCohort | undefined, members: string[]): void {
    const previous = this.loaded.get(id);
    const incoming = new Set(members);
    if (previous) {
      const old = previous.segment;
      const keep = next?.segment === old;
      for (const [member, list] of this.index) {
        if (list.includes(old) && !(keep && incoming.has(member))) this.set(member, list, old, false);
      }
    }
    if (next) {
      for (const member of incoming) {
        const list = this.index.get(member) ?? EMPTY;
        if (!list.includes(next.segment)) this.set(member, list, next.segment, true);
      }
      this.loaded.set(id, next);
    } else {
      this.loaded.delete(id);
    }
  }

  private set(member: string, list: readonly string[], segment: string, add: boolean): void {
    const names = add ? [...list, segment].sort() : list.filter((s) => s !== segment);
    if (names.length === 0) {
      this.index.delete(member);
      return;
    }
    const key = names.join('\n');
    let interned = this.lists.get(key);
    if (!interned) {
      interned = Object.freeze(names);
      this.lists.set(key, interned);
    }
    this.index.set(member, interned);
  }
}
