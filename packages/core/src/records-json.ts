import { PipelineExposure } from './exposure.js';
import { PairMemo } from './memo.js';
import { FormatRecordBuilder, type RecordBuilder } from './records.js';
import type { Exposure } from './types.js';

/** One record as JSON text and its length in UTF-8 bytes. */
export interface RecordJson {
  json: string;
  bytes: number;
}

/** An exposure's records as JSON text, in the shape Mixpanel takes them (token added by the sender). */
export interface ExposureJson {
  events: RecordJson[];
  profileUpdate: RecordJson;
}

/** The JSON of the event properties every user of one (flag, rule, variation) shares. */
interface Shared {
  flagKey: string;
  ruleKey: string;
  variationKey: string;
  enabled: boolean;
  experimentId: string | undefined;
  variationId: string | undefined;
  /** `"flag_key":…,"variation_key":…,"rule_key":…,"enabled":…[,"experiment_id":…][,"variation_id":…]` */
  json: string;
  /** `",<json>}}`: what ends an event after its `$insert_id` when it has no trace id. */
  tail: string;
  /** UTF-8 bytes of `tail`. */
  tailBytes: number;
}

/** Parts of one builder's records, by datafile strings; the caps only guard against hostile input. */
class Parts {
  readonly eventPrefix: string;
  readonly eventPrefixBytes: number;
  /** By flag key, then rule key, then variation key. */
  private readonly shared = new PairMemo<Map<string, Shared>>();
  /** `,"$set":{<name>:<value>}}` by property name, then value. */
  private readonly sets = new PairMemo<RecordJson>();
  // The last two shared parts found and the last tail: a server's exposures mostly repeat one
  // flag's two variations, and comparing the SDK's strings is cheaper than the maps' lookups.
  private last: Shared | undefined;
  private other: Shared | undefined;
  private lastName: string | undefined;
  private lastValue: string | undefined;
  private lastTail: RecordJson | undefined;

  constructor(private readonly records: RecordBuilder) {
    this.eventPrefix = `{"event":${JSON.stringify(records.eventName)},"properties":{"distinct_id":`;
    this.eventPrefixBytes = utf8Bytes(this.eventPrefix);
  }

  eventShared(e: PipelineExposure): Shared {
    const last = this.last;
    if (last !== undefined && matches(last, e)) return last;
    const other = this.other;
    if (other !== undefined && matches(other, e)) {
      this.other = last;
      this.last = other;
      return other;
    }
    const found = this.lookUpShared(e);
    this.other = last;
    this.last = found;
    return found;
  }

  private lookUpShared(e: PipelineExposure): Shared {
    // By flag and rule key, then variation key.
    let byVariation = this.shared.get(e.flagKey, e.ruleKey);
    let shared = byVariation?.get(e.variationKey);
    if (
      shared === undefined ||
      shared.enabled !== e.enabled ||
      shared.experimentId !== e.experimentId ||
      shared.variationId !== e.variationId
    ) {
      if (byVariation === undefined) {
        byVariation = new Map();
        this.shared.set(e.flagKey, e.ruleKey, byVariation);
      }
      const json = this.sharedJson(e);
      const tail = ['",', json, '}}'].join('');
      shared = {
        flagKey: e.flagKey,
        ruleKey: e.ruleKey,
        variationKey: e.variationKey,
        enabled: e.enabled,
        experimentId: e.experimentId,
        variationId: e.variationId,
        json,
        tail,
        tailBytes: utf8Bytes(tail),
      };
      // A datafile has few variations per rule; the cap only guards against hostile input.
      if (byVariation.size >= 1_000) byVariation.clear();
      byVariation.set(e.variationKey, shared);
    }
    return shared;
  }

  /** The same properties, in the same order, as {@link RecordBuilder.events} gives them: taken from it. */
  private sharedJson(e: PipelineExposure): string {
    const input = e.eventInput;
    const properties = input ? this.records.events(input)[0]?.properties : undefined;
    if (!properties) return '';
    const { distinct_id: _id, time: _time, $insert_id: _insertId, trace_id: _traceId, ...shared } = properties;
    return JSON.stringify(shared).slice(1, -1);
  }

  profileTail(name: string, value: string): RecordJson {
    if (name === this.lastName && value === this.lastValue) return this.lastTail as RecordJson;
    let tail = this.sets.get(name, value);
    if (tail === undefined) {
      const json = `,"$set":${JSON.stringify({ [name]: value })}}`;
      tail = { json, bytes: utf8Bytes(json) };
      this.sets.set(name, value, tail);
    }
    this.lastName = name;
    this.lastValue = value;
    this.lastTail = tail;
    return tail;
  }
}

/** Whether `shared` holds the event properties of `e`. */
function matches(shared: Shared, e: PipelineExposure): boolean {
  return (
    shared.flagKey === e.flagKey &&
    shared.ruleKey === e.ruleKey &&
    shared.variationKey === e.variationKey &&
    shared.enabled === e.enabled &&
    shared.experimentId === e.experimentId &&
    shared.variationId === e.variationId
  );
}

let lastRecords: RecordBuilder | undefined;
let lastParts: Parts | undefined;
const partsByBuilder = new WeakMap<RecordBuilder, Parts>();

function partsOf(records: RecordBuilder): Parts {
  if (records === lastRecords) return lastParts as Parts;
  let parts = partsByBuilder.get(records);
  if (parts === undefined) {
    parts = new Parts(records);
    partsByBuilder.set(records, parts);
  }
  lastRecords = records;
  lastParts = parts;
  return parts;
}

/**
 * The exposure's records as the JSON text `JSON.stringify` would give them,
 * built from parts remembered per flag, rule and variation: for senders that
 * queue records as JSON (a fifth of the cost of serializing the objects).
 * Undefined when the records may differ from the pipeline's (read or replaced,
 * e.g. by a hook) or carry per-user extras (allowlisted attributes, Mixpanel
 * identity properties, the `$experiment_started` format): serialize
 * `exposure.events` and `exposure.profileUpdate` then.
 */
export function exposureJson(exposure: Exposure): ExposureJson | undefined {
  if (!(exposure instanceof PipelineExposure) || !exposure.pristine) return undefined;
  const records = exposure.records;
  const input = exposure.eventInput;
  // A builder without a format gives Experiment Viewed alone.
  const format = records instanceof FormatRecordBuilder ? records.format : 'experiment_viewed';
  if (input && (format !== 'experiment_viewed' || records.pickAttributes !== undefined || input.identity)) {
    return undefined;
  }
  const parts = partsOf(records);
  const id = quote(exposure.distinctId);
  const idBytes = quotedBytes;
  const events: RecordJson[] = [];
  if (input) {
    const shared = parts.eventShared(exposure);
    // Event times are whole minutes: the same few for every exposure, their text joined once.
    if (input.time !== lastTime) {
      lastTime = input.time;
      timePart = [',"time":', String(input.time), ',"$insert_id":"'].join('');
    }
    // join() makes one flat string where a template makes a chain of pieces: records wait in the
    // queue until sent, and each piece is one more object for every young-generation collection to copy.
    // Five parts where a trace id is absent: the constant text around the per-user ones is joined once.
    const json = input.traceId
      ? [
          parts.eventPrefix,
          id,
          timePart,
          input.insertId,
          '",',
          shared.json,
          ',"trace_id":"',
          input.traceId,
          '"}}',
        ].join('')
      : [parts.eventPrefix, id, timePart, input.insertId, shared.tail].join('');
    // Only the id and the remembered parts can hold non-ASCII characters; a trace id adds its own 14 + 32.
    const ascii = timePart.length + input.insertId.length + (input.traceId ? 14 + input.traceId.length : 0);
    events.push({ json, bytes: parts.eventPrefixBytes + idBytes + ascii + shared.tailBytes });
  }
  const { name, value } = exposure.profileProperty;
  const tail = parts.profileTail(name, value);
  const profileUpdate = ['{"$distinct_id":', id, tail.json].join('');
  return { events, profileUpdate: { json: profileUpdate, bytes: 16 + idBytes + tail.bytes } };
}

let lastTime = Number.NaN;
/** `,"time":<lastTime>,"$insert_id":"` */
let timePart = '';
// What JSON.stringify escapes in a well-formed string (ids are checked well-formed).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes.
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** The UTF-8 length of what {@link quote} returned last. */
let quotedBytes = 0;

/**
 * `JSON.stringify(s)` for a well-formed string, setting `quotedBytes`: for the usual plain
 * ASCII id, one pass over its characters answers both, without reading the quoted copy again.
 */
function quote(s: string): string {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
      const json = NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
      quotedBytes = utf8Bytes(json);
      return json;
    }
  }
  quotedBytes = n + 2;
  return `"${s}"`;
}

/** UTF-8 length of a well-formed string (a surrogate pair is 4 bytes: 2 + 2). */
function utf8Bytes(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}
