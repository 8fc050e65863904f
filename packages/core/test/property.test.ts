import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecisionPipeline,
  type Exposure,
  isValidDistinctId,
  MIXPANEL_LIMITS,
  readLegacyDecision,
} from '../src/index.js';

const hostileString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', 'anon', 'null', '0', 'toString', 'default-rollout-1'),
);
const anyValue = fc.oneof(hostileString, fc.anything());

const flagPayload = fc.record(
  {
    type: fc.oneof(fc.constantFrom('flag', 'feature', 'feature-test', 'ab-test', 'feature-variable'), anyValue),
    userId: anyValue,
    attributes: fc.oneof(fc.dictionary(hostileString, anyValue), anyValue),
    decisionInfo: fc.oneof(
      fc.record(
        {
          flagKey: fc.oneof(hostileString, anyValue),
          enabled: fc.oneof(fc.boolean(), anyValue),
          variationKey: fc.oneof(hostileString, fc.constant(null), anyValue),
          ruleKey: fc.oneof(hostileString, fc.constant(null), anyValue),
          experimentId: fc.oneof(fc.string(), fc.integer(), anyValue),
          variationId: fc.oneof(fc.string(), fc.integer(), anyValue),
          decisionEventDispatched: anyValue,
          experimentKey: hostileString,
          featureKey: hostileString,
          featureEnabled: fc.boolean(),
          source: fc.constantFrom('feature-test', 'rollout'),
          sourceInfo: fc.oneof(fc.record({ experimentKey: hostileString, variationKey: hostileString }), anyValue),
        },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
  },
  { requiredKeys: [] },
);

function utf8(s: string): number {
  return Buffer.byteLength(s);
}

function assertValid(exposure: Exposure): void {
  expect(isValidDistinctId(exposure.distinctId)).toBe(true);
  if (exposure.events.length > 0) expect(exposure.insertId).toMatch(/^[A-Za-z0-9-]{1,36}$/);
  expect(exposure.insertId.length).toBeLessThanOrEqual(MIXPANEL_LIMITS.maxInsertIdLength);
  expect(Number.isFinite(exposure.timestamp)).toBe(true);
  for (const [name, value] of Object.entries(exposure.profileUpdate.$set)) {
    expect(name.length).toBeLessThanOrEqual(255);
    expect(utf8(value)).toBeLessThanOrEqual(255);
  }
  // Experiments (and rules the payload cannot place) give events; rollouts the profile property alone.
  const experiment = exposure.ruleKey !== '' && (exposure.ruleKind === 'experiment' || exposure.ruleKind === 'unknown');
  expect(exposure.events.length > 0).toBe(experiment);
  for (const event of exposure.events) {
    expect(event.properties.distinct_id).toBe(exposure.distinctId);
    expect(event.properties.$insert_id).toBe(exposure.insertId);
    expect(Object.keys(event.properties).length).toBeLessThanOrEqual(255);
    for (const [name, value] of Object.entries(event.properties)) {
      expect(name.length).toBeLessThanOrEqual(255);
      if (typeof value === 'string') expect(utf8(value)).toBeLessThanOrEqual(255);
      else expect(['number', 'boolean']).toContain(typeof value);
    }
  }
  // What we hand to a sender must survive JSON and UTF-8, unchanged: no lone surrogate, no NUL.
  expect(JSON.parse(JSON.stringify(exposure.events))).toEqual(exposure.events);
  const json = JSON.stringify([exposure.events, exposure.profileUpdate]);
  expect(Buffer.from(json, 'utf8').toString('utf8')).toBe(json);
  expect(json).not.toContain('\\u0000');
}

describe('DecisionPipeline under random and hostile input', () => {
  it('never throws and never yields an invalid exposure', () => {
    const pipeline = new DecisionPipeline({
      legacy: readLegacyDecision,
      includeRulelessDecisions: true,
      eventFormat: 'both',
      attributeAllowlist: ['plan', 'toString', 'valueOf'],
    });
    fc.assert(
      fc.property(fc.oneof(flagPayload, anyValue), (payload) => {
        const result = pipeline.handle(payload);
        if (result.exposure) assertValid(result.exposure);
        else expect(typeof result.skipReason).toBe('string');
      }),
      { numRuns: 3000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('exports well-formed flag decisions with any string keys', () => {
    const pipeline = new DecisionPipeline({ dedup: false });
    fc.assert(
      fc.property(
        fc.string({ minLength: 37, maxLength: 255 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 400 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 400 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 400 }),
        (userId, flagKey, ruleKey, variationKey) => {
          const result = pipeline.handle({
            type: 'flag',
            userId,
            decisionInfo: { flagKey, ruleKey, variationKey, enabled: true },
          });
          expect(result.skipReason).toBeUndefined();
          assertValid(result.exposure as Exposure);
        },
      ),
      { numRuns: 500 },
    );
  });
});
