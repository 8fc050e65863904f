import sdk5 from 'optimizely-sdk-v5';
import * as sdk6 from 'optimizely-sdk-v6';
import { describe, expect, it } from 'vitest';
import { type AnySdk, createOfflineClient, decisionType } from '../../../test/support/optimizely.js';
import { DecisionPipeline, type Outcome, readLegacyDecision } from '../src/index.js';

/** Runs `act` on a fresh client and returns what the pipeline made of every notification it fired. */
function capture(sdk: AnySdk, act: (client: AnySdk) => void, pipeline = new DecisionPipeline()) {
  const client = createOfflineClient(sdk);
  const results: Outcome[] = [];
  client.notificationCenter.addNotificationListener(decisionType(sdk), (n: unknown) => {
    results.push(pipeline.handle(n));
  });
  act(client);
  client.close();
  return results;
}

describe.each([
  ['6.x', sdk6 as AnySdk, true],
  ['5.x', sdk5 as AnySdk, false],
])('real SDK %s notifications', (_label, sdk, hasIds) => {
  it('decide() on the A/B flag yields the bucketed exposure', () => {
    const [result] = capture(sdk, (c) => c.createUserContext('user-123', { plan: 'pro' }).decide('checkout_redesign'));
    expect(result?.exposure).toMatchObject({
      distinctId: 'user-123',
      flagKey: 'checkout_redesign',
      variationKey: 'variation_a',
      ruleKey: 'checkout_redesign_ab',
      enabled: true,
      decisionEventDispatched: true,
    });
    expect(result?.exposure?.profileUpdate.$set).toEqual({ '[Optimizely] checkout_redesign': 'variation_a' });
    if (hasIds) expect(result?.exposure?.events[0]?.properties.experiment_id).toBe('exp_40000000001');
    else expect(result?.exposure?.experimentId).toBeUndefined();
    // Attributes stay out unless allowlisted.
    expect(result?.exposure?.events[0]?.properties).not.toHaveProperty('plan');
  });

  it('decideAll() and decideForKeys() yield one result per known flag', () => {
    const all = capture(sdk, (c) => c.createUserContext('user-123').decideAll());
    expect(all.map((r) => r.decision?.flagKey).sort()).toEqual(['checkout_redesign', 'premium_banner']);
    const banner = all.find((r) => r.decision?.flagKey === 'premium_banner')?.exposure;
    expect(banner).toMatchObject({ ruleKind: 'everyone_else', variationKey: 'off', enabled: false });
    expect(banner?.profileUpdate.$set).toEqual({ '[Optimizely] premium_banner': 'off' });

    const some = capture(sdk, (c) => c.createUserContext('user-123').decideForKeys(['premium_banner', 'nope']));
    expect(some.map((r) => r.decision?.flagKey)).toEqual(['premium_banner']);
  });

  it('segments set by hand turn premium_banner on through its segment rule', () => {
    const results = capture(sdk, (c) => {
      const user = c.createUserContext('user-123');
      user.qualifiedSegments = ['premium_users'];
      user.decide('premium_banner');
    });
    expect(results[0]?.exposure).toMatchObject({ ruleKey: 'premium_segment_rule', variationKey: 'on', enabled: true });
    expect(results[0]?.exposure?.profileUpdate.$set).toEqual({ '[Optimizely] premium_banner': 'on' });
  });

  it('repeated decide() is deduplicated', () => {
    const results = capture(sdk, (c) => {
      const user = c.createUserContext('user-123');
      for (let i = 0; i < 5; i++) user.decide('checkout_redesign');
    });
    expect(results.map((r) => r.skipReason ?? 'exposed')).toEqual([
      'exposed',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
  });

  it('legacy calls are skipped by default and mapped when opted in', () => {
    const legacyCalls = (c: AnySdk) => {
      c.activate('checkout_redesign_ab', 'user-123');
      c.isFeatureEnabled('checkout_redesign', 'user-456');
      c.isFeatureEnabled('premium_banner', 'user-123');
      c.getFeatureVariable('checkout_redesign', 'button_color', 'user-789');
    };
    expect(capture(sdk, legacyCalls).map((r) => r.skipReason)).toEqual([
      'legacy_type',
      'legacy_type',
      'legacy_type',
      'legacy_type',
    ]);
    const mapped = capture(sdk, legacyCalls, new DecisionPipeline({ legacy: readLegacyDecision }));
    expect(mapped.map((r) => r.exposure?.decisionType ?? r.skipReason)).toEqual([
      'feature-test',
      'feature',
      'no_variation',
      'feature-variable',
    ]);
    expect(mapped[1]?.exposure).toMatchObject({ flagKey: 'checkout_redesign', ruleKey: 'checkout_redesign_ab' });
  });
});
