import type { EventInput, RecordBuilder } from './records.js';
import type { Exposure, FlagDecision, MixpanelEvent, MixpanelProfileUpdate, RuleKind } from './types.js';

const UNBUILT = Symbol();

/**
 * An exposure as the pipeline makes it. Its Mixpanel records (`events`,
 * `profileUpdate`) are objects built when first read: a sender that takes
 * them as JSON ({@link exposureJson}) never pays for objects it would only
 * serialize. Once read or replaced (by a hook, a sink), they are what is sent.
 */
export class PipelineExposure implements Exposure {
  distinctId: string;
  flagKey: string;
  variationKey: string;
  ruleKey: string;
  ruleKind: RuleKind;
  enabled: boolean;
  experimentId?: string;
  variationId?: string;
  decisionType: string;
  decisionEventDispatched: boolean;
  timestamp: number;
  insertId: string;
  profileProperty: { name: string; value: string };
  userId?: string;
  // Private names: not enumerable, so copies and comparisons see a plain exposure.
  #records: RecordBuilder;
  /** What the events are built from; undefined for a profile-only exposure. */
  #input: EventInput | undefined;
  // UNBUILT until read or set: a hook may set anything, undefined and null included.
  #events: MixpanelEvent[] | typeof UNBUILT = UNBUILT;
  #profileUpdate: MixpanelProfileUpdate | typeof UNBUILT = UNBUILT;

  /** The exposure of decision `d`, with the values the pipeline derived from it. */
  constructor(
    records: RecordBuilder,
    input: EventInput | undefined,
    d: FlagDecision,
    distinctId: string,
    variationKey: string,
    ruleKey: string,
    timestamp: number,
    insertId: string,
    profileProperty: { name: string; value: string },
    userId: string | undefined,
  ) {
    this.distinctId = distinctId;
    this.flagKey = d.flagKey;
    this.variationKey = variationKey;
    this.ruleKey = ruleKey;
    this.ruleKind = d.ruleKind;
    this.enabled = d.enabled;
    this.decisionType = d.decisionType;
    this.decisionEventDispatched = d.decisionEventDispatched;
    this.timestamp = timestamp;
    this.insertId = insertId;
    this.profileProperty = profileProperty;
    if (d.experimentId !== undefined) this.experimentId = d.experimentId;
    if (d.variationId !== undefined) this.variationId = d.variationId;
    if (userId !== undefined) this.userId = userId;
    this.#records = records;
    this.#input = input;
  }

  get events(): MixpanelEvent[] {
    if (this.#events === UNBUILT) this.#events = this.#input ? this.#records.events(this.#input) : [];
    return this.#events;
  }

  set events(events: MixpanelEvent[]) {
    this.#events = events;
  }

  get profileUpdate(): MixpanelProfileUpdate {
    if (this.#profileUpdate === UNBUILT) {
      this.#profileUpdate = {
        $distinct_id: this.distinctId,
        $set: this.#records.profileSet(this.profileProperty.name, this.profileProperty.value),
      };
    }
    return this.#profileUpdate;
  }

  set profileUpdate(update: MixpanelProfileUpdate) {
    this.#profileUpdate = update;
  }

  /** True until `events` or `profileUpdate` is read or replaced: the records are still the builder's. */
  get pristine(): boolean {
    return this.#events === UNBUILT && this.#profileUpdate === UNBUILT;
  }

  /** The builder of the records. */
  get records(): RecordBuilder {
    return this.#records;
  }

  /** What the events are built from; undefined for a profile-only exposure. */
  get eventInput(): EventInput | undefined {
    return this.#input;
  }
}

/** Whether an exposure sends any event, without building them: a pristine one has an `insertId` exactly then. */
export function hasEvents(exposure: Exposure): boolean {
  if (exposure instanceof PipelineExposure && exposure.pristine) return exposure.insertId !== '';
  return exposure.events.length > 0;
}
