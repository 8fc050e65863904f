import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecisionPipeline, type Exposure, exposureJson, hasEvents, type PipelineConfig } from '../src/index.js';

const text = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
  fc.constantFrom('"quoted"', 'back\\slash', 'line\nbreak', '\u2028', 'ünïcödé', '😀 emoji', '__proto__'),
);

function payload(userId: string, flagKey: string, ruleKey: string, variationKey: string, enabled: boolean) {
  return {
    type: 'flag',
    userId,
    attributes: {},
    decisionInfo: { flagKey, ruleKey, variationKey, enabled, experimentId: '40000000001', variationId: '7' },
  };
}

/** What a sender serializing the objects queues. */
function stringified(exposure: Exposure) {
  return {
    events: exposure.events.map((e) => JSON.stringify({ event: e.event, properties: e.properties })),
    profileUpdate: JSON.stringify(exposure.profileUpdate),
  };
}

/** The exposure's JSON is exactly that of its records, with their UTF-8 lengths. */
function expectJsonOfRecords(exposure: Exposure) {
  const json = exposureJson(exposure);
  if (!json) throw new Error('a pristine exposure of the default format has JSON');
  const expected = stringified(exposure);
  expect(json.events.map((r) => r.json)).toEqual(expected.events);
  expect(json.profileUpdate.json).toBe(expected.profileUpdate);
  for (const record of [...json.events, json.profileUpdate]) {
    expect(record.bytes).toBe(Buffer.byteLength(record.json));
  }
}

describe('exposureJson', () => {
  it('gives exactly the JSON of the records and its UTF-8 length, for any ids and keys', () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    fc.assert(
      fc.property(
        text,
        text,
        text,
        text,
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom<PipelineConfig['rollouts']>('event', 'profile'),
        (user, flagKey, ruleKey, variationKey, enabled, traced, rollouts) => {
          const pipeline = new DecisionPipeline({ rollouts, eventName: 'Exposé "viewed"' });
          const { exposure } = pipeline.handle(
            payload(user, flagKey, ruleKey, variationKey, enabled),
            undefined,
            traced ? traceId : undefined,
          );
          if (!exposure) return; // refused ids and keys have their own tests
          expectJsonOfRecords(exposure);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('gives the same JSON from one pipeline over a mixed sequence of flags, rules, variations and ids', () => {
    // The parts remembered for the last decisions must never leak into a different one.
    const pick = <T>(...values: T[]) => fc.constantFrom(...values);
    const decision = fc.record({
      user: text,
      flagKey: pick('f', 'g'),
      ruleKey: pick('ab', 'ab2', 'default-rollout-1'),
      variationKey: pick('a', 'b', 'off'),
      enabled: fc.boolean(),
      experimentId: pick('40000000001', '40000000002', undefined),
      variationId: pick('7', '8', undefined),
      traced: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(decision, { minLength: 1, maxLength: 40 }), (decisions) => {
        const pipeline = new DecisionPipeline({ dedup: false, rollouts: 'event' });
        for (const d of decisions) {
          const n = payload(d.user, d.flagKey, d.ruleKey, d.variationKey, d.enabled);
          Object.assign(n.decisionInfo, { experimentId: d.experimentId, variationId: d.variationId });
          const traceId = d.traced ? '0af7651916cd43dd8448eb211c80319c' : undefined;
          const { exposure } = pipeline.handle(n, undefined, traceId);
          if (!exposure) continue;
          expectJsonOfRecords(exposure);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives JSON for the profile update alone of a profile-only rollout', () => {
    const { exposure } = new DecisionPipeline().handle(payload('user-1', 'f', 'default-rollout-1', 'on', true));
    const json = exposureJson(exposure as Exposure);
    expect(json?.events).toEqual([]);
    expect(hasEvents(exposure as Exposure)).toBe(false);
    expect(json?.profileUpdate.json).toBe('{"$distinct_id":"user-1","$set":{"[Optimizely] f":"on"}}');
  });

  it('reuses the shared part only for the same enabled state and ids', () => {
    const pipeline = new DecisionPipeline({ dedup: false });
    const on = pipeline.handle(payload('user-1', 'f', 'ab', 'a', true)).exposure as Exposure;
    const off = pipeline.handle(payload('user-2', 'f', 'ab', 'a', false)).exposure as Exposure;
    expect(exposureJson(on)?.events[0]?.json).toContain('"enabled":true');
    expect(exposureJson(off)?.events[0]?.json).toContain('"enabled":false');
  });

  it('gives none once the records were read or replaced, so what a hook did is what is sent', () => {
    const pipeline = new DecisionPipeline({ dedup: false });
    const read = pipeline.handle(payload('user-1', 'f', 'ab', 'a', true)).exposure as Exposure;
    expect(hasEvents(read)).toBe(true);
    expect(exposureJson(read)).toBeDefined();
    void read.events;
    expect(exposureJson(read)).toBeUndefined();
    const replaced = pipeline.handle(payload('user-1', 'f', 'ab', 'a', true)).exposure as Exposure;
    replaced.profileUpdate = { $distinct_id: 'user-1', $set: { x: 'y' } };
    expect(exposureJson(replaced)).toBeUndefined();
    expect(replaced.profileUpdate.$set).toEqual({ x: 'y' });
    // Whatever a hook sets stays set, undefined included: the records are not built again.
    const cleared = pipeline.handle(payload('user-1', 'f', 'ab', 'a', true)).exposure as Exposure;
    (cleared as { events: unknown }).events = undefined;
    expect(cleared.events).toBeUndefined();
    // A plain object (built by hand) is serialized by the sender.
    expect(exposureJson({ ...read, events: [], profileUpdate: replaced.profileUpdate })).toBeUndefined();
  });

  it('gives none for per-user extras: allowlisted attributes, identity, $experiment_started', () => {
    const withAttributes = new DecisionPipeline({ attributeAllowlist: ['plan'] });
    const attributes = { ...payload('user-1', 'f', 'ab', 'a', true), attributes: { plan: 'pro' } };
    expect(exposureJson(withAttributes.handle(attributes).exposure as Exposure)).toBeUndefined();
    const identity = { ...payload('user-1', 'f', 'ab', 'a', true), attributes: { $device_id: 'device-123456' } };
    expect(exposureJson(new DecisionPipeline().handle(identity).exposure as Exposure)).toBeUndefined();
    const started = new DecisionPipeline({ eventFormat: 'both' });
    expect(exposureJson(started.handle(payload('user-1', 'f', 'ab', 'a', true)).exposure as Exposure)).toBeUndefined();
  });
});
