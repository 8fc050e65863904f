import { describe, expect, it } from 'vitest';
import { ExperimentContextStore } from '../src/experiment-context.js';

const A = '[Optimizely] checkout_redesign';
const B = '[Optimizely] premium_banner';

describe('ExperimentContextStore', () => {
  it('keeps the last variation per flag and adds it without overriding what is set', () => {
    const store = new ExperimentContextStore();
    store.set('u1', A, 'control', 1000);
    store.set('u1', B, 'off', 1000);
    store.set('u1', A, 'variation_a', 2000);
    expect(store.get('u1', 2000)).toEqual({ [A]: 'variation_a', [B]: 'off' });
    const properties: Record<string, unknown> = { distinct_id: 'u1', [B]: 'set by the app' };
    expect(store.addTo('u1', properties, 2000)).toBe(true);
    expect(properties).toEqual({ distinct_id: 'u1', [A]: 'variation_a', [B]: 'set by the app' });
    expect(store.addTo('u2', properties, 2000)).toBe(false);
    expect(store.get('u2', 2000)).toBeUndefined();
  });

  it('forgets a user the time to live after their last exposure, flags of the expired entry included', () => {
    const store = new ExperimentContextStore({ ttlMs: 1000 });
    store.set('u1', A, 'control', 0);
    store.set('u1', B, 'on', 500);
    expect(store.has('u1', 1499)).toBe(true);
    expect(store.has('u1', 1500)).toBe(false);
    expect(store.addTo('u1', {}, 1500)).toBe(false);
    store.set('u1', B, 'off', 5000); // a new exposure after expiry starts afresh
    expect(store.get('u1', 5000)).toEqual({ [B]: 'off' });
  });

  it('holds at most maxEntries ids, evicting the least recently written', () => {
    const store = new ExperimentContextStore({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c']) store.set(id, A, 'x', 0);
    store.set('a', B, 'y', 1); // a is written again: b is now the oldest
    store.set('d', A, 'x', 2);
    expect(store.size).toBe(3);
    expect(store.has('b', 2)).toBe(false);
    expect(['a', 'c', 'd'].every((id) => store.has(id, 2))).toBe(true);
    expect(store.evictions).toBe(1);
  });

  it('sweeps expired entries as it writes, so they do not hold memory', () => {
    const store = new ExperimentContextStore({ ttlMs: 10, maxEntries: 1000 });
    for (let i = 0; i < 100; i++) store.set(`old-${i}`, A, 'x', 0);
    for (let i = 0; i < 100; i++) store.set(`new-${i}`, A, 'x', 100);
    expect(store.size).toBe(100);
    expect(store.evictions).toBe(0);
  });

  it('evicts in write order through long runs of writes, rewrites and expiries, as a plain list would', () => {
    // A reference model: ids in write order. The store must hold exactly its last maxEntries live ids.
    const max = 50;
    const ttl = 1_000;
    const store = new ExperimentContextStore({ maxEntries: max, ttlMs: ttl });
    let order: Array<{ id: string; at: number }> = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 20_000; i++) {
      const now = Math.floor(i / 10); // ten writes per ms: entries expire along the way
      const id = `u${Math.floor(random() * (random() < 0.5 ? 60 : 5_000))}`; // hot and cold ids
      store.set(id, A, `v${i}`, now);
      order = order.filter((e) => e.id !== id);
      order.push({ id, at: now });
      if (order.length > max) order = order.slice(order.length - max);
      if (i % 97 === 0) {
        const live = order.filter((e) => now < e.at + ttl).map((e) => e.id);
        for (const e of order) expect(store.has(e.id, now)).toBe(live.includes(e.id));
        expect(store.size).toBeLessThanOrEqual(max);
        expect(store.size).toBeGreaterThanOrEqual(live.length);
      }
    }
    expect(store.evictions).toBeGreaterThan(0);
  });

  it('refuses settings that cannot work', () => {
    expect(() => new ExperimentContextStore({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new ExperimentContextStore({ ttlMs: -1 })).toThrow(/ttlMs/);
  });
});
