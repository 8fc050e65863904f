import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cohortSegmentsOf, instrumentUserContexts, qualifyUserContext } from '../src/index.js';
import { COHORTS_DATAFILE_PATH } from './helpers.js';

const require = createRequire(import.meta.url);
const DATAFILE = readFileSync(COHORTS_DATAFILE_PATH, 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: two SDK majors with unrelated types.
type Any = any;

function offlineClient(sdk: Any): Any {
  if (typeof sdk.createStaticProjectConfigManager === 'function') {
    return sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile: DATAFILE }) });
  }
  return sdk.createInstance({
    datafile: DATAFILE,
    logLevel: 'error',
    eventDispatcher: { dispatchEvent: (_e: unknown, cb?: (r: unknown) => void) => cb?.({ statusCode: 204 }) },
    odpOptions: { disabled: true },
  });
}

describe.each(['optimizely-sdk-v6', 'optimizely-sdk-v5'])('user contexts of %s', (name) => {
  const sdk = require(name);

  it('qualifies new contexts of an instrumented client for their cohorts', () => {
    const client = offlineClient(sdk);
    const cohorts: Record<string, readonly string[]> = { alice: ['mixpanel_power_users'] };
    expect(instrumentUserContexts(client, (id) => cohorts[id])).toBe(true);
    expect(instrumentUserContexts(client, () => undefined)).toBe(true); // idempotent: still the first lookup
    const alice = client.createUserContext('alice', { country: 'fr' });
    const bob = client.createUserContext('bob');
    expect(alice.qualifiedSegments).toEqual(['mixpanel_power_users']);
    expect(bob.qualifiedSegments).toBeNull();
    expect(alice.decide('premium_banner')).toMatchObject({ ruleKey: 'premium_segment_rule', variationKey: 'on' });
    expect(bob.decide('premium_banner')).toMatchObject({ variationKey: 'off' });
    expect(alice.getAttributes()).toEqual({ country: 'fr' });
    client.close();
  });

  it('merges with segments the application sets and survives fetchQualifiedSegments without ODP', async () => {
    const client = offlineClient(sdk);
    const user = client.createUserContext('carol');
    qualifyUserContext(user, ['mixpanel_power_users']);
    expect(cohortSegmentsOf(user)).toEqual(['mixpanel_power_users']);
    user.qualifiedSegments = ['odp_segment'];
    expect(user.qualifiedSegments).toEqual(['odp_segment', 'mixpanel_power_users']);
    expect(user.isQualifiedFor('odp_segment')).toBe(true);
    expect(user.decide('premium_banner').variationKey).toBe('on');
    user.qualifiedSegments = null;
    expect(user.qualifiedSegments).toEqual(['mixpanel_power_users']);
    await user.fetchQualifiedSegments(); // resets to null without ODP
    expect(user.qualifiedSegments).toEqual(['mixpanel_power_users']);
    expect(user.decide('premium_banner').variationKey).toBe('on');
    // Each context owns its array: the application may push into it.
    user.qualifiedSegments.push('pushed');
    expect(client.createUserContext('dave').qualifiedSegments).toBeNull();
    client.close();
  });

  it('leaves createUserContext as it was when the lookup throws', () => {
    const client = offlineClient(sdk);
    instrumentUserContexts(client, () => {
      throw new Error('boom');
    });
    const user = client.createUserContext('erin');
    expect(user.getUserId()).toBe('erin');
    expect(user.qualifiedSegments).toBeNull();
    client.close();
  });
});
