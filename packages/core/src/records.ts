import { isWellFormed, propertyValue, truncateName } from './limits.js';
import type { EventFormat, FlagDecision, MixpanelEvent, PropertyValue } from './types.js';

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
]);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Event property holding the trace id of the span active in `decide()`: the
 * field name OpenTelemetry gives trace ids in logs, searchable as is in Jaeger,
 * Tempo and Honeycomb.
 */
export const TRACE_ID_PROPERTY = 'trace_id';

/** The parts of an exposure event that vary per decision. */
export interface EventInput {
  decision: FlagDecision;
  distinctId: string;
  variationKey: string;
  ruleKey: string;
  time: number;
  insertId: string;
  attributes: unknown;
  traceId: string | undefined;
}

/**
 * Builds the Mixpanel records of an exposure: the event(s) in the configured
 * format and the profile property name. Names and values are made valid for
 * Mixpanel here (repaired UTF-16, 255-byte values, 255-character names).
 */
export class RecordBuilder {
  private readonly format: EventFormat;
  private readonly eventName: string;
  private readonly prefix: string;
  private readonly allowlist: readonly string[];
  /** Profile property names by flag key (null: the key cannot be a property name). */
  private readonly names = new Map<string, string | null>();

  constructor(format: EventFormat, eventName: string, prefix: string, allowlist: readonly string[]) {
    this.format = format;
    this.eventName = eventName;
    this.prefix = prefix;
    this.allowlist = allowlist;
  }

  /**
   * `[Optimizely] <flagKey>`, or null when the flag key has NUL or a lone
   * surrogate. Cached: flag keys come from the datafile, so they are few.
   */
  profileName(flagKey: string): string | null {
    let name = this.names.get(flagKey);
    if (name === undefined) {
      name = isWellFormed(flagKey) ? truncateName(this.prefix + flagKey) : null;
      // The cap only guards against hostile input.
      if (this.names.size >= 10_000) this.names.clear();
      this.names.set(flagKey, name);
    }
    return name;
  }

  events(input: EventInput): MixpanelEvent[] {
    const { decision: d, distinctId, time, insertId } = input;
    const flag = propertyValue(d.flagKey);
    const variation = propertyValue(input.variationKey);
    const rule = propertyValue(input.ruleKey);
    const attributes = this.allowlist.length > 0 ? this.pick(input.attributes) : undefined;
    const events: MixpanelEvent[] = [];
    if (this.format !== 'experiment_started') {
      const properties: MixpanelEvent['properties'] = {
        distinct_id: distinctId,
        time,
        $insert_id: insertId,
        flag_key: flag,
        variation_key: variation,
        rule_key: rule,
        enabled: d.enabled,
      };
      // Letter prefixes keep 11+ digit ids from being flagged as card numbers.
      if (d.experimentId !== undefined) properties.experiment_id = propertyValue(`exp_${d.experimentId}`);
      if (d.variationId !== undefined) properties.variation_id = propertyValue(`var_${d.variationId}`);
      if (input.traceId) properties[TRACE_ID_PROPERTY] = input.traceId;
      if (attributes) Object.assign(properties, attributes);
      events.push({ event: this.eventName, properties });
    }
    if (this.format !== 'experiment_viewed') {
      const properties: MixpanelEvent['properties'] = {
        distinct_id: distinctId,
        time,
        $insert_id: insertId,
        'Experiment name': rule || flag,
        'Variant name': variation,
        flag_key: flag,
      };
      if (input.traceId) properties[TRACE_ID_PROPERTY] = input.traceId;
      if (attributes) Object.assign(properties, attributes);
      events.push({ event: '$experiment_started', properties });
    }
    return events;
  }

  private pick(source: unknown): Record<string, PropertyValue> | undefined {
    if (source === null || typeof source !== 'object') return undefined;
    let picked: Record<string, PropertyValue> | undefined;
    for (const name of this.allowlist) {
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
  }
}

/** A usable event or property name: a non-empty, well-formed string of at most 255 characters. */
export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 255 && isWellFormed(value);
}

/** The allowlisted attribute names that can be event properties; the others are reported through `warn`. */
export function checkAllowlist(list: unknown, warn: (message: string) => void): readonly string[] {
  if (list === undefined) return [];
  // Mixpanel takes 255 properties per event; ours come first.
  const max = 255 - RESERVED_PROPERTIES.size;
  const names: string[] = [];
  for (const name of Array.isArray(list) ? list : [undefined]) {
    if (!isValidName(name) || UNSAFE_KEYS.has(name) || RESERVED_PROPERTIES.has(name) || names.length >= max) {
      warn('attributeAllowlist holds an invalid, reserved or extra name: it is ignored');
    } else names.push(name);
  }
  return names;
}
