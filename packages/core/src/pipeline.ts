import { ExposureDeduplicator } from './dedup.js';
import { PipelineExposure } from './exposure.js';
import { readIdentity } from './identity.js';
import { isValidDistinctId } from './limits.js';
import { type LegacyReader, readNotification } from './notification.js';
import { invalid, oneOf } from './options.js';
import {
  type AttributePicker,
  attributePicker,
  type EventInput,
  isValidName,
  RecordBuilder,
  RememberingRecordBuilder,
} from './records.js';
import type {
  ClientConfig,
  DecisionNotification,
  Deduplicator,
  Exposure,
  FlagDecision,
  Outcome,
  PipelineConfig,
  RolloutMode,
  SkipReason,
} from './types.js';

/**
 * Exposure events carry the minute they happened in, not the millisecond: a page
 * rendered on the server and hydrated in the browser decides twice, and both sides
 * then send the same (event, time, distinct_id, $insert_id), which Mixpanel keeps once.
 */
const EVENT_TIME_STEP_MS = 60_000;

// The default first.
const ROLLOUT_MODES: readonly RolloutMode[] = ['profile', 'event', 'off'];

/**
 * The decision path shared by Node and the browser, with its dedup memory
 * given (or none): {@link DecisionPipeline} gives it the server's table, the
 * browser a small map, so a page does not ship the table.
 */
export class ExposurePipeline<D extends Deduplicator = Deduplicator> {
  readonly #legacy: LegacyReader | undefined;
  readonly #rollouts: RolloutMode;
  readonly #includeRuleless: boolean;
  readonly #records: RecordBuilder;
  readonly #now: () => number;
  /** The dedup clock when it is not `now`. */
  readonly #dedupClock: (() => number) | undefined;
  /** The dedup memory, or undefined when dedup is off. */
  readonly deduplicator: D | undefined;
  readonly #windowMs: number;

  /**
   * Checks `rollouts` (warning by name, the default applying); the other
   * options are taken as given, as {@link DecisionPipeline} checks them, and
   * `config.warn` must not throw ({@link DecisionPipeline} contains it).
   * `config.dedup` and `config.attributeAllowlist` are not read here: the
   * memory is `deduplicator`, the allowlist `attributes` (from {@link attributePicker}).
   * `Records` builds the Mixpanel records from `config`: the default builds
   * `Experiment Viewed` events alone; {@link FormatRecordBuilder} reads
   * `eventFormat`, and {@link DecisionPipeline} gives the remembering one.
   */
  constructor(
    config: PipelineConfig,
    deduplicator: D | undefined,
    attributes?: AttributePicker,
    Records: typeof RecordBuilder = RecordBuilder,
  ) {
    this.#rollouts = oneOf(config, 'rollouts', ROLLOUT_MODES);
    this.#legacy = config.legacy;
    this.#includeRuleless = config.includeRulelessDecisions === true;
    this.#records = new Records(config, attributes);
    this.#now = config.now ?? Date.now;
    this.#dedupClock = config.dedupClock;
    this.deduplicator = deduplicator;
    this.#windowMs = deduplicator?.windowMs ?? 30 * 60 * 1000;
  }

  /**
   * Handles one DECISION notification. `clientConfig` (rule kinds, from
   * {@link ClientConfigCache}) tells experiments from targeted deliveries;
   * without it only `default-rollout-*` rules are known as rollouts. `traceId`
   * (a valid one: see {@link traceIdOf}) is that of the span active in
   * `decide()`, and the exposure events carry it.
   * `decision` is the parsed decision whenever the payload names one, skipped
   * or not (for telemetry of every evaluation).
   */
  handle(notification: unknown, clientConfig?: ClientConfig, traceId?: string): Outcome {
    let decision: FlagDecision | undefined;
    try {
      const read = readNotification(notification, this.#legacy, clientConfig);
      if (typeof read === 'string') return { decision: undefined, skipReason: read };
      decision = read;
      const reason = this.#check(decision);
      if (reason) return { decision, skipReason: reason };
      return this.#expose(decision, notification, traceId);
    } catch {
      // Hostile payloads (throwing getters, proxies) end here.
      return { decision, skipReason: 'invalid_notification' };
    }
  }

  /**
   * Forgets an exposure, so the same decision is exposed again. For senders
   * that could not deliver it and want a later decision to retry.
   */
  forget(exposure: Exposure): void {
    this.deduplicator?.forget(exposure.userId ?? exposure.distinctId, exposure.flagKey);
  }

  #check(d: FlagDecision): SkipReason | undefined {
    if (!isValidDistinctId(d.userId)) return 'invalid_user_id';
    if (this.#records.profileName(d.flagKey) === null) return 'invalid_flag_key';
    if (!d.ruleKey && !this.#includeRuleless) return 'no_rule';
    if (this.#rollouts === 'off' && isRollout(d)) return 'rollout_excluded';
    if (!d.variationKey && d.enabled) return 'no_variation';
    return undefined;
  }

  #expose(d: FlagDecision, notification: unknown, traceId: string | undefined): Outcome {
    const userId = d.userId as string;
    const flagKey = d.flagKey;
    const ruleKey = d.ruleKey ?? '';
    const variationKey = d.variationKey || 'off';
    const timestamp = this.#now();
    // Dedup on the SDK user id: a repeated decision never reads the attributes.
    if (this.deduplicator?.seen(userId, flagKey, ruleKey, variationKey, this.#dedupClock?.() ?? timestamp)) {
      return { decision: d, skipReason: 'duplicate' };
    }
    const attributes = (notification as { attributes?: unknown }).attributes;
    // `$device_id`/`$user_id` attributes: the events carry them, as Mixpanel asks of server-side
    // tracking, and the distinct id is the one Mixpanel derives, so they merge with the browser's.
    const identity = readIdentity(attributes);
    const distinctId = identity?.distinctId ?? userId;
    const profileName = this.#records.profileName(flagKey) as string;
    // A datafile string: a server's builder remembers its value.
    const profileValue = d.enabled ? this.#records.value('', variationKey) : 'off';
    let insertId = '';
    let input: EventInput | undefined;
    if (this.#rollouts === 'event' || !isRollout(d)) {
      // Same tuple in the same window bucket, in any process, gives the same id.
      insertId = this.#records.insertId(
        distinctId,
        flagKey,
        ruleKey,
        variationKey,
        Math.floor(timestamp / this.#windowMs),
      );
      input = {
        decision: d,
        distinctId,
        variationKey,
        ruleKey,
        time: timestamp - (timestamp % EVENT_TIME_STEP_MS),
        insertId,
        attributes,
        identity,
        traceId,
      };
    }
    return {
      exposure: this.exposure(
        this.#records,
        input,
        d,
        distinctId,
        variationKey,
        ruleKey,
        timestamp,
        insertId,
        { name: profileName, value: profileValue },
        distinctId !== userId ? userId : undefined,
      ),
      decision: d,
    };
  }

  /** The exposure of `d` with the values derived from it, its records built now: a page sends them all. */
  protected exposure(...parts: ConstructorParameters<typeof PipelineExposure>): Exposure {
    const [records, input, d, distinctId, variationKey, ruleKey, timestamp, insertId, profileProperty, userId] = parts;
    const exposure: Exposure = {
      ...(d as FlagDecision & { userId?: string }),
      distinctId,
      variationKey,
      ruleKey,
      timestamp,
      insertId,
      profileProperty,
      events: input ? records.events(input) : [],
      profileUpdate: {
        $distinct_id: distinctId,
        $set: records.profileSet(profileProperty.name, profileProperty.value),
      },
    };
    // The decision's fields are the exposure's, but for ids it lacks and a user id only kept when it differs.
    if (userId === undefined) delete exposure.userId;
    if (d.experimentId === undefined) delete exposure.experimentId;
    if (d.variationId === undefined) delete exposure.variationId;
    return exposure;
  }
}

/**
 * The decision path shared by Node and the browser: one DECISION notification
 * (SDK 5.x or 6.x) in, an {@link Outcome} out: an exposure with its Mixpanel
 * records, or a skip with its reason. Stateful only through its bounded dedup
 * memory. Neither the constructor nor {@link handle} ever throws.
 *
 * By default an experiment rule gives the exposure event and the profile
 * property; a rollout rule (targeted delivery, everyone else) gives the profile
 * property alone (`rollouts: 'event' | 'profile' | 'off'`).
 *
 * @example
 * ```ts
 * const pipeline = new DecisionPipeline({ dedup: { windowMs: 30 * 60_000 } });
 * const clientConfig = clientConfigCache(client);
 * notificationCenter.addNotificationListener(DECISION, (n) => {
 *   const { exposure } = pipeline.handle(n, clientConfig.get());
 *   if (exposure) send(exposure.events, exposure.profileUpdate);
 * });
 * ```
 */
export class DecisionPipeline extends ExposurePipeline<ExposureDeduplicator> {
  readonly #dedupClock: () => number;

  constructor(config: PipelineConfig = {}) {
    const warn = warner(config);
    const fn = <T>(value: T) => (typeof value === 'function' ? value : undefined);
    const now = fn(config.now) ?? Date.now;
    const dedupClock = fn(config.dedupClock);
    let eventName = config.eventName;
    if (eventName != null && !isValidName(eventName)) {
      warn(invalid('eventName'));
      eventName = undefined;
    }
    let prefix = config.profilePropertyPrefix;
    if (prefix != null && prefix !== '' && !isValidName(prefix)) {
      warn(invalid('profilePropertyPrefix'));
      prefix = undefined;
    }
    super(
      {
        ...config,
        warn,
        eventName,
        profilePropertyPrefix: prefix,
        legacy: fn(config.legacy),
        now,
        dedupClock,
      },
      config.dedup === false ? undefined : new ExposureDeduplicator(config.dedup, now()),
      attributePicker(config.attributeAllowlist, warn),
      RememberingRecordBuilder,
    );
    this.#dedupClock = dedupClock ?? now;
  }

  /** The records are built when first read: a sender taking them as JSON never builds them. */
  protected override exposure(...args: ConstructorParameters<typeof PipelineExposure>): Exposure {
    return new PipelineExposure(...args);
  }

  /**
   * True when `notification` is a flag decision this memory already exposed
   * within the window: what {@link handle} would answer as `duplicate`, with
   * the same effect on the memory, found without reading the decision whole.
   * Only valid exposures are ever recorded, so a repeat needs no validation.
   * False (nothing recorded) for anything else, and when the memory cannot
   * tell: {@link handle} it then. Never throws.
   */
  isRepeat(notification: unknown): boolean {
    const memory = this.deduplicator;
    if (!memory) return false;
    try {
      const n = notification as Partial<DecisionNotification>;
      const info = n.decisionInfo;
      if (n.type !== 'flag' || !info) return false;
      const { userId } = n;
      const { flagKey, ruleKey, variationKey } = info;
      if (typeof userId !== 'string' || typeof flagKey !== 'string' || typeof ruleKey !== 'string') return false;
      const variation = typeof variationKey === 'string' && variationKey !== '' ? variationKey : 'off';
      return memory.repeated(userId, flagKey, ruleKey, variation, this.#dedupClock());
    } catch {
      return false;
    }
  }
}

/** A decision of a rollout rule (targeted delivery, everyone else), or of no rule. */
function isRollout(d: FlagDecision): boolean {
  return !d.ruleKey || d.ruleKind === 'rollout' || d.ruleKind === 'everyone_else';
}

/** `config.warn`, contained: a throwing logger changes nothing. */
function warner(config: PipelineConfig): (message: string) => void {
  return (message) => {
    try {
      config.warn?.(message);
    } catch {}
  };
}
