import { compactInsertIdOf, insertIdOf } from './hash.js';
import type { MixpanelIdentity } from './identity.js';
import { isWellFormed, propertyValue, truncateName } from './limits.js';
import { PairMemo } from './memo.js';
import { oneOf } from './options.js';
import type { EventFormat, FlagDecision, MixpanelEvent, PipelineConfig, PropertyValue, TraceSpan } from './types.js';

/** Event properties this package writes; allowlisted attributes never overwrite them. */
const RESERVED_PROPERTIES = new Set([
  'distinct_id',
  'time',
  '$insert_id',
  'token',
  'flag_key',
  'variation_key',
  'rule_key',
  'enabled',
  'experiment_id',
  'variation_id',
  'trace_id',
  'Experiment name',
  'Variant name',
  // Identity: carried from the attributes by their own rule, never copied as attributes.
  '$device_id',
  '$user_id',
]);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Event property holding the trace id of the span active in `decide()`: the
 * field name OpenTelemetry gives trace ids in logs, searchable as is in Jaeger,
 * Tempo and Honeycomb.
 */
export const TRACE_ID_PROPERTY = 'trace_id';

const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;

/**
 * The trace id of `span` when it is a valid one (32 lowercase hex digits, not
 * all zero): what the exposure events carry as {@link TRACE_ID_PROPERTY}.
 */
export function traceIdOf(span: TraceSpan | undefined): string | undefined {
  const traceId = span?.spanContext().traceId;
  return traceId && TRACE_ID.test(traceId) ? traceId : undefined;
}

/** The parts of an exposure event that vary per decision. */
export interface EventInput {
  decision: FlagDecision;
  distinctId: string;
  variationKey: string;
  ruleKey: string;
  time: number;
  insertId: string;
  attributes: unknown;
  /** `$device_id`/`$user_id` from the attributes, when they carry them. */
  identity?: MixpanelIdentity | undefined;
  traceId: string | undefined;
}

/**
 * Builds the Mixpanel records of an exposure: the `Experiment Viewed` event
 * (`config.eventName`) and the profile property name. Names and values are
 * made valid for Mixpanel here (repaired UTF-16, 255-byte values,
 * 255-character names). {@link FormatRecordBuilder} adds Mixpanel's
 * `$experiment_started` format; {@link RememberingRecordBuilder} remembers
 * names and values for a server's many users.
 */
export class RecordBuilder {
  readonly eventName: string;
  #prefix: string;
  /** Picks the allowlisted attributes; undefined without an allowlist. */
  readonly pickAttributes: AttributePicker | undefined;

  /** `config.eventName` and `config.profilePropertyPrefix` are taken as given, or their defaults. */
  constructor(config: PipelineConfig, pickAttributes: AttributePicker | undefined) {
    this.eventName = config.eventName ?? 'Experiment Viewed';
    this.#prefix = config.profilePropertyPrefix ?? '[Optimizely] ';
    this.pickAttributes = pickAttributes;
  }

  /** `[Optimizely] <flagKey>`, or null when the flag key has NUL or a lone surrogate. */
  profileName(flagKey: string): string | null {
    return isWellFormed(flagKey) ? truncateName(this.#prefix + flagKey) : null;
  }

  /** The exposure event(s) of `input`. */
  events(input: EventInput): MixpanelEvent[] {
    const d = input.decision;
    const properties: MixpanelEvent['properties'] = {
      distinct_id: input.distinctId,
      time: input.time,
      $insert_id: input.insertId,
      flag_key: this.value('', d.flagKey),
      variation_key: this.value('', input.variationKey),
      rule_key: this.value('', input.ruleKey),
      enabled: d.enabled,
    };
    // Letter prefixes keep 11+ digit ids from being flagged as card numbers.
    if (d.experimentId !== undefined) properties.experiment_id = this.value('exp_', d.experimentId);
    if (d.variationId !== undefined) properties.variation_id = this.value('var_', d.variationId);
    return [{ event: this.eventName, properties: finish(properties, input, this.pickAttributes?.(input.attributes)) }];
  }

  /** A fresh `{ [name]: value }` for a profile update's `$set` (an own property even for `__proto__`). */
  profileSet(name: string, value: string): Record<string, string> {
    return { [name]: value };
  }

  /** `propertyValue(prefix + s)`, for datafile strings: flag, rule and variation keys, prefixed ids. */
  value(prefix: '' | 'exp_' | 'var_', s: string): string {
    return propertyValue(prefix + s);
  }

  /**
   * The `$insert_id` of an exposure event: the same tuple in the same window
   * bucket gives the same id. The parts that repeat across users come first,
   * so a server hashes only the user's part for each of them.
   */
  insertId(distinctId: string, flagKey: string, ruleKey: string, variationKey: string, bucket: number): string {
    return compactInsertIdOf(flagKey, ruleKey, variationKey, distinctId, bucket);
  }
}

const EVENT_FORMATS: readonly EventFormat[] = ['experiment_viewed', 'experiment_started', 'both'];

/**
 * A {@link RecordBuilder} that gives the events in `config.eventFormat`:
 * `Experiment Viewed` (default), Mixpanel's `$experiment_started` (`Experiment
 * name`, `Variant name`, read by its Experiments report), or both. Kept apart,
 * so that bundles without the choice leave it out.
 */
export class FormatRecordBuilder extends RecordBuilder {
  readonly format: EventFormat;

  /** Checks `config.eventFormat`, warning by name through `config.warn` (which must not throw). */
  constructor(config: PipelineConfig, pickAttributes: AttributePicker | undefined) {
    super(config, pickAttributes);
    this.format = oneOf(config, 'eventFormat', EVENT_FORMATS);
  }

  override events(input: EventInput): MixpanelEvent[] {
    const events = this.format === 'experiment_started' ? [] : super.events(input);
    if (this.format !== 'experiment_viewed') {
      const flag = this.value('', input.decision.flagKey);
      const rule = this.value('', input.ruleKey);
      const properties: MixpanelEvent['properties'] = {
        distinct_id: input.distinctId,
        time: input.time,
        $insert_id: input.insertId,
        'Experiment name': rule || flag,
        'Variant name': this.value('', input.variationKey),
        flag_key: flag,
      };
      events.push({
        event: '$experiment_started',
        properties: finish(properties, input, this.pickAttributes?.(input.attributes)),
      });
    }
    return events;
  }
}

/**
 * A {@link RecordBuilder} that remembers profile property names, values of
 * datafile strings and `$set` objects: the same few for every user, and
 * repairing and measuring them was a fifth of an exposure on a server. A
 * page makes few exposures and leaves these caches out of its bundle.
 */
export class RememberingRecordBuilder extends FormatRecordBuilder {
  /** Profile property names by flag key (null: the key cannot be a property name). */
  private readonly names = new Map<string, string | null>();
  /** Property values of datafile strings by their source, one map per prefix. */
  private readonly values = new Map<string, string>();
  private readonly experimentIds = new Map<string, string>();
  private readonly variationIds = new Map<string, string>();
  /** `$set` of a profile update by property name, then value: copied, never shared. */
  private readonly profileSets = new PairMemo<Record<string, string>>();

  // The last flag key and its name: an exposure asks twice, and a server mostly decides one flag after another.
  private lastFlagKey: string | undefined;
  private lastName: string | null = null;

  override profileName(flagKey: string): string | null {
    if (flagKey === this.lastFlagKey) return this.lastName;
    let name = this.names.get(flagKey);
    if (name === undefined) {
      name = super.profileName(flagKey);
      // The cap only guards against hostile input.
      if (this.names.size >= 10_000) this.names.clear();
      this.names.set(flagKey, name);
    }
    this.lastFlagKey = flagKey;
    this.lastName = name;
    return name;
  }

  /**
   * Copying a remembered object is a third of the cost of a computed-key
   * literal, and like it defines an own property even for `__proto__`.
   */
  override profileSet(name: string, value: string): Record<string, string> {
    let template = this.profileSets.get(name, value);
    if (template === undefined) {
      template = { [name]: value };
      this.profileSets.set(name, value, template);
    }
    return { ...template };
  }

  /** Remembered by `s`, in the map of its prefix; the cap only guards against hostile input. */
  override value(prefix: '' | 'exp_' | 'var_', s: string): string {
    const cache = prefix === '' ? this.values : prefix === 'exp_' ? this.experimentIds : this.variationIds;
    let value = cache.get(s);
    if (value === undefined) {
      value = propertyValue(prefix + s);
      if (cache.size >= 10_000) cache.clear();
      cache.set(s, value);
    }
    return value;
  }

  /** The same id, its hex written for speed. */
  override insertId(
    distinctId: string,
    flagKey: string,
    ruleKey: string,
    variationKey: string,
    bucket: number,
  ): string {
    return insertIdOf(flagKey, ruleKey, variationKey, distinctId, bucket);
  }
}

/** The properties every format ends with: trace id, allowlisted attributes, Mixpanel identity. */
function finish(
  properties: MixpanelEvent['properties'],
  input: EventInput,
  attributes: Record<string, PropertyValue> | undefined,
): MixpanelEvent['properties'] {
  const { traceId, identity } = input;
  if (traceId) properties[TRACE_ID_PROPERTY] = traceId;
  if (attributes) Object.assign(properties, attributes);
  // Valid distinct ids (readIdentity takes no other), so valid property values as they are.
  if (identity) {
    const { distinctId: _, ...ids } = identity;
    Object.assign(properties, ids);
  }
  return properties;
}

/** A usable event or property name: a non-empty, well-formed string of at most 255 characters. */
export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 255 && isWellFormed(value);
}

/** Picks the allowlisted SDK user attributes that can be event property values. */
export type AttributePicker = (attributes: unknown) => Record<string, PropertyValue> | undefined;

/**
 * The picker of the allowlisted attribute names that can be event properties,
 * or undefined when there are none; the other names are reported through `warn`.
 * Kept apart from the pipeline, so that bundles without an allowlist leave it out.
 */
export function attributePicker(list: unknown, warn: (message: string) => void): AttributePicker | undefined {
  if (list === undefined) return undefined;
  // Mixpanel takes 255 properties per event; ours come first.
  const max = 255 - RESERVED_PROPERTIES.size;
  const names: string[] = [];
  for (const name of Array.isArray(list) ? list : [undefined]) {
    if (!isValidName(name) || UNSAFE_KEYS.has(name) || RESERVED_PROPERTIES.has(name) || names.length >= max) {
      warn('attributeAllowlist holds an invalid, reserved or extra name: it is ignored');
    } else names.push(name);
  }
  if (names.length === 0) return undefined;
  return (source) => {
    if (source === null || typeof source !== 'object') return undefined;
    let picked: Record<string, PropertyValue> | undefined;
    for (const name of names) {
      if (!Object.hasOwn(source, name)) continue;
      const value = (source as Record<string, unknown>)[name];
      let safe: PropertyValue | undefined;
      if (typeof value === 'string') safe = propertyValue(value);
      else if (typeof value === 'boolean') safe = value;
      else if (typeof value === 'number' && Number.isFinite(value)) safe = value;
      if (safe === undefined) continue;
      picked ??= {};
      picked[name] = safe;
    }
    return picked;
  };
}
