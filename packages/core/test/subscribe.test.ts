import sdk5 from 'optimizely-sdk-v5';
import * as sdk6 from 'optimizely-sdk-v6';
import { describe, expect, it } from 'vitest';
import { type AnyClient, type AnySdk, createOfflineClient } from '../../../test/support/optimizely.js';
import {
  type ClientConfigCache,
  clientConfigCache,
  DecisionPipeline,
  subscribeClient,
  subscribeWith,
} from '../src/index.js';

describe.each([
  ['6.x', sdk6 as AnySdk],
  ['5.x', sdk5 as AnySdk],
])('subscribeClient on the real SDK %s', (_label, sdk) => {
  it("re-reads the datafile after the SDK's own OPTIMIZELY_CONFIG_UPDATE, with or without the SDK module", () => {
    const s = sdk as {
      NOTIFICATION_TYPES?: Record<string, string>;
      enums?: { NOTIFICATION_TYPES: Record<string, string> };
    };
    const type = (s.NOTIFICATION_TYPES ?? s.enums?.NOTIFICATION_TYPES)?.OPTIMIZELY_CONFIG_UPDATE as string;
    for (const module of [sdk, undefined]) {
      const client: AnyClient = createOfflineClient(sdk);
      const real = client.getOptimizelyConfig.bind(client);
      let reads = 0;
      client.getOptimizelyConfig = () => {
        reads++;
        return real();
      };
      const kinds: unknown[] = [];
      subscribeClient(client, (_n, config) => kinds.push(config.get()?.ruleKinds.size), new WeakSet(), module);
      const user = client.createUserContext('user-123');
      user.decide('checkout_redesign');
      user.decide('checkout_redesign');
      expect(reads).toBe(1);
      client.notificationCenter.sendNotifications(type);
      user.decide('checkout_redesign');
      expect(reads).toBe(2);
      expect(kinds.every((size) => typeof size === 'number' && size > 0)).toBe(true);
      client.close();
    }
  });

  it('finds the DECISION type with or without the SDK module, once per client, with rule kinds resolved', () => {
    for (const module of [sdk, undefined]) {
      const client: AnyClient = createOfflineClient(sdk);
      const subscribed = new WeakSet<object>();
      const pipeline = new DecisionPipeline({ dedup: false });
      const reasons: string[] = [];
      const listener = (n: unknown, config: ClientConfigCache) => {
        const { decision } = pipeline.handle(n, config.get());
        reasons.push(`${decision?.flagKey}:${decision?.ruleKind}`);
      };
      expect(subscribeClient(client, listener, subscribed, module)).toBe(true);
      expect(subscribeClient(client, listener, subscribed, module)).toBe(true); // idempotent
      const user = client.createUserContext('user-123');
      user.decide('checkout_redesign');
      user.decide('premium_banner');
      user.qualifiedSegments = ['premium_users'];
      user.decide('premium_banner');
      client.close();
      expect(reasons).toEqual([
        'checkout_redesign:experiment',
        'premium_banner:everyone_else',
        'premium_banner:rollout',
      ]);
    }
  });

  it('subscribeWith takes the type names given, or tries both, once per client', () => {
    const types = sdk.NOTIFICATION_TYPES ?? sdk.enums?.NOTIFICATION_TYPES;
    for (const given of [types, undefined]) {
      const client: AnyClient = createOfflineClient(sdk);
      const subscribed = new WeakSet<object>();
      let calls = 0;
      expect(subscribeWith(client, () => calls++, subscribed, given)).toBe(true);
      expect(subscribeWith(client, () => calls++, subscribed, given)).toBe(true);
      client.createUserContext('user-123').decide('checkout_redesign');
      client.close();
      expect(calls).toBe(1);
    }
    const wrong = createOfflineClient(sdk);
    expect(subscribeWith(wrong, () => {}, new WeakSet(), { DECISION: 'NOT_A_TYPE' })).toBe(false);
    wrong.close();
  });

  it('is idempotent without a set of its own', () => {
    const client: AnyClient = createOfflineClient(sdk);
    let calls = 0;
    expect(subscribeClient(client, () => calls++)).toBe(true);
    expect(subscribeClient(client, () => calls++)).toBe(true);
    client.createUserContext('user-123').decide('checkout_redesign');
    client.close();
    expect(calls).toBe(1);
  });

  it('refuses what is not a client, and leaves such objects without a listener', () => {
    const subscribed = new WeakSet<object>();
    expect(subscribeClient(null, () => {}, subscribed)).toBe(false);
    expect(subscribeClient({}, () => {}, subscribed)).toBe(false);
    const refusing = { notificationCenter: { addNotificationListener: () => -1 } };
    expect(subscribeClient(refusing, () => {}, subscribed)).toBe(false);
    expect(subscribed.has(refusing)).toBe(false);
  });
});

describe('ClientConfigCache', () => {
  it('reads the datafile once until invalidated, and survives a throwing getOptimizelyConfig', () => {
    const client: AnyClient = createOfflineClient(sdk6);
    const real = client.getOptimizelyConfig.bind(client);
    let reads = 0;
    let fail = false;
    client.getOptimizelyConfig = () => {
      reads++;
      if (fail) throw new Error('config unavailable');
      return real();
    };
    const errors: unknown[] = [];
    const cache = clientConfigCache(client, (e) => errors.push(e));
    expect(cache.get()?.ruleKinds.get('checkout_redesign')?.get('checkout_redesign_ab')).toBe('experiment');
    cache.get();
    expect(reads).toBe(1);
    cache.invalidate(); // what OPTIMIZELY_CONFIG_UPDATE does
    fail = true;
    for (let i = 0; i < 500; i++) expect(cache.get()).toBeUndefined();
    // A throwing client is asked again only after the next datafile, not on every decision.
    expect([reads, errors.length]).toEqual([2, 1]);
    fail = false;
    for (let i = 0; i < 600; i++) expect(cache.get()).toBeUndefined();
    expect(reads).toBe(2);
    cache.invalidate();
    expect(cache.get()?.environmentKey).toBe('production');
    expect(reads).toBe(3);
    client.close();
  });
});
