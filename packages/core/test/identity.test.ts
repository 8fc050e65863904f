import { describe, expect, it } from 'vitest';
import { DecisionPipeline } from '../src/index.js';
import { flag } from './payloads.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

/** The notification for `userId` with these SDK user attributes. */
const decision = (attributes: Record<string, unknown>, userId = 'user-123') => flag({}, userId, attributes);

const pipeline = (config = {}) => new DecisionPipeline({ now: () => T0, ...config });

describe('DecisionPipeline: identity (Simplified ID Merge)', () => {
  it('a logged-in user: the events carry $device_id and $user_id, distinct_id is the $user_id', () => {
    const { exposure } = pipeline().handle(decision({ $device_id: 'dev-1', $user_id: 'user-123', plan: 'pro' }));
    expect(exposure?.distinctId).toBe('user-123');
    expect(exposure?.events[0]?.properties).toMatchObject({
      distinct_id: 'user-123',
      $device_id: 'dev-1',
      $user_id: 'user-123',
    });
    expect(exposure?.profileUpdate.$distinct_id).toBe('user-123');
  });

  it("Mixpanel's Experiments report event carries them too", () => {
    const { exposure } = pipeline({ eventFormat: 'both' }).handle(decision({ $device_id: 'dev-5', $user_id: 'u-5' }));
    for (const event of exposure?.events ?? []) {
      expect(event.properties).toMatchObject({ distinct_id: 'u-5', $device_id: 'dev-5', $user_id: 'u-5' });
    }
    expect(exposure?.events).toHaveLength(2);
  });

  it("an anonymous user: distinct_id is the id Mixpanel derives from $device_id, as the browser's", () => {
    const { exposure } = pipeline().handle(decision({ $device_id: 'dev-2' }, 'server-session-9'));
    expect(exposure?.distinctId).toBe('$device:dev-2');
    expect(exposure?.events[0]?.properties).toMatchObject({ distinct_id: '$device:dev-2', $device_id: 'dev-2' });
    expect(exposure?.events[0]?.properties).not.toHaveProperty('$user_id');
    expect(exposure?.profileUpdate.$distinct_id).toBe('$device:dev-2');
  });

  it('logging in (the SDK user id becomes the account id) exposes again with both ids, so Mixpanel merges them', () => {
    const p = pipeline();
    expect(p.handle(decision({ $device_id: 'dev-3' }, 'dev-3')).exposure?.distinctId).toBe('$device:dev-3');
    const after = p.handle(decision({ $device_id: 'dev-3', $user_id: 'user-123' }, 'user-123')).exposure;
    expect(after?.events[0]?.properties).toMatchObject({
      distinct_id: 'user-123',
      $device_id: 'dev-3',
      $user_id: 'user-123',
    });
  });

  it('dedups on the SDK user id, and forget() reaches that entry', () => {
    const p = pipeline();
    const first = p.handle(decision({ $device_id: 'dev-4' }, 'session-4')).exposure;
    expect(first?.userId).toBe('session-4');
    expect(p.handle(decision({ $device_id: 'dev-4' }, 'session-4')).skipReason).toBe('duplicate');
    p.forget(first as NonNullable<typeof first>);
    expect(p.handle(decision({ $device_id: 'dev-4' }, 'session-4')).exposure?.distinctId).toBe('$device:dev-4');
  });

  it('the ids are not copied otherwise, even when allowlisted; invalid ones are ignored', () => {
    const { exposure } = pipeline({ attributeAllowlist: ['$device_id', '$user_id', 'plan'] }).handle(
      decision({ $device_id: 'undefined', $user_id: '', plan: 'pro' }),
    );
    expect(exposure?.distinctId).toBe('user-123');
    expect(exposure?.events[0]?.properties).not.toHaveProperty('$device_id');
    expect(exposure?.events[0]?.properties).not.toHaveProperty('$user_id');
    expect(exposure?.events[0]?.properties.plan).toBe('pro');
  });

  it('without identity attributes nothing changes', () => {
    const { exposure } = pipeline().handle(decision({ plan: 'pro' }));
    expect(exposure?.distinctId).toBe('user-123');
    expect(exposure?.events[0]?.properties).not.toHaveProperty('$device_id');
  });
});
