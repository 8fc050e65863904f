import { describe, expect, it } from 'vitest';
import {
  attributePicker,
  DecisionPipeline,
  type Deduplicator,
  deliver,
  deliverWith,
  type EventFormat,
  type Exposure,
  type ExposureHook,
  ExposurePipeline,
  FormatRecordBuilder,
  type PipelineConfig,
  readLegacyDecision,
  runExposureHook,
  type SkipReason,
  traceIdOf,
} from '../src/index.js';
import { flag } from './payloads.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function makePipeline(config: PipelineConfig = {}, clock = { now: T0 }) {
  return new DecisionPipeline({ now: () => clock.now, ...config });
}

describe('DecisionPipeline: exposures', () => {
  it('turns a flag decision into an exposure, an event and a profile update', () => {
    const { exposure, skipReason } = makePipeline().handle(flag());
    expect(skipReason).toBeUndefined();
    expect(exposure).toMatchObject({
      distinctId: 'user-123',
      flagKey: 'checkout_redesign',
      variationKey: 'variation_a',
      ruleKey: 'checkout_redesign_ab',
      enabled: true,
      experimentId: '40000000001',
      variationId: '70000000002',
      decisionEventDispatched: true,
      timestamp: T0,
    });
    expect(exposure?.insertId).toMatch(/^[0-9a-f]{32}$/);
    expect(exposure?.profileUpdate).toEqual({
      $distinct_id: 'user-123',
      $set: { '[Optimizely] checkout_redesign': 'variation_a' },
    });
    expect(exposure?.events).toEqual([
      {
        event: 'Experiment Viewed',
        properties: {
          distinct_id: 'user-123',
          time: T0,
          $insert_id: exposure?.insertId,
          flag_key: 'checkout_redesign',
          variation_key: 'variation_a',
          rule_key: 'checkout_redesign_ab',
          enabled: true,
          experiment_id: 'exp_40000000001',
          variation_id: 'var_70000000002',
        },
      },
    ]);
  });

  it('two processes deciding the same within a minute send the same time and $insert_id (server render, then hydration)', () => {
    const server = makePipeline({}, { now: T0 + 1_250 }).handle(flag()).exposure;
    const browser = makePipeline({}, { now: T0 + 41_900 }).handle(flag()).exposure;
    expect(server?.events[0]?.properties.time).toBe(T0);
    expect(browser?.events[0]?.properties).toMatchObject({ time: T0, $insert_id: server?.insertId });
    // The exposure keeps its exact moment for telemetry.
    expect(browser?.timestamp).toBe(T0 + 41_900);
    const nextMinute = makePipeline({}, { now: T0 + 61_000 }).handle(flag()).exposure;
    expect(nextMinute?.events[0]?.properties.time).toBe(T0 + 60_000);
  });

  it('writes "off" to the profile when the flag is disabled', () => {
    const { exposure } = makePipeline().handle(
      flag({ enabled: false, variationKey: 'control', ruleKey: 'checkout_redesign_ab' }),
    );
    expect(exposure?.profileUpdate.$set).toEqual({ '[Optimizely] checkout_redesign': 'off' });
    expect(exposure?.events[0]?.properties.variation_key).toBe('control');
    expect(exposure?.events[0]?.properties.enabled).toBe(false);
  });

  it('omits ids a 5.x payload does not carry', () => {
    const { exposure } = makePipeline().handle(flag({ experimentId: undefined, variationId: undefined }));
    expect(exposure?.events[0]?.properties).not.toHaveProperty('experiment_id');
    expect(exposure).not.toHaveProperty('experimentId');
  });

  it('emits $experiment_started for Mixpanel Experiments, alone or with Experiment Viewed', () => {
    const started = makePipeline({ eventFormat: 'experiment_started' }).handle(flag()).exposure;
    expect(started?.events.map((e) => e.event)).toEqual(['$experiment_started']);
    expect(started?.events[0]?.properties).toMatchObject({
      'Experiment name': 'checkout_redesign_ab',
      'Variant name': 'variation_a',
    });
    const both = makePipeline({ eventFormat: 'both' }).handle(flag()).exposure;
    expect(both?.events.map((e) => e.event)).toEqual(['Experiment Viewed', '$experiment_started']);
    expect(both?.events[0]?.properties.$insert_id).toBe(both?.events[1]?.properties.$insert_id);
  });

  it('takes a custom event name and profile prefix', () => {
    const { exposure } = makePipeline({ eventName: 'Exposure', profilePropertyPrefix: 'exp: ' }).handle(flag());
    expect(exposure?.events[0]?.event).toBe('Exposure');
    expect(Object.keys(exposure?.profileUpdate.$set ?? {})).toEqual(['exp: checkout_redesign']);
  });

  it('never throws on invalid configuration: warns by option name and uses the default', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    const pipeline = makePipeline({
      eventFormat: 'bogus' as never,
      eventName: '',
      rollouts: 'sometimes' as never,
      attributeAllowlist: ['__proto__', 'distinct_id', 'plan\uD800', 'plan'],
      warn,
    });
    expect(warnings.join('\n')).toMatch(/eventFormat is invalid/);
    expect(warnings.join('\n')).toMatch(/eventName/);
    expect(warnings.join('\n')).toMatch(/rollouts is invalid/);
    expect(warnings.filter((w) => w.includes('attributeAllowlist'))).toHaveLength(3);
    expect(warnings.join('\n')).not.toContain('bogus');
    const { exposure } = pipeline.handle(flag({}, 'user-123', { plan: 'pro' }));
    expect(exposure?.events[0]?.event).toBe('Experiment Viewed');
    expect(exposure?.events[0]?.properties.plan).toBe('pro');
    expect(() =>
      makePipeline({
        attributeAllowlist: 'plan' as never,
        warn: () => {
          throw new Error('x');
        },
      }),
    ).not.toThrow();
  });
});

describe('DecisionPipeline: exposure semantics', () => {
  const datafile = {
    environmentKey: 'production',
    revision: '1',
    ruleKinds: new Map([
      ['checkout_redesign', new Map([['checkout_redesign_ab', 'experiment' as const]])],
      [
        'premium_banner',
        new Map([
          ['premium_segment_rule', 'rollout' as const],
          ['default-rollout-91000000002', 'everyone_else' as const],
        ]),
      ],
    ]),
  };
  const targeted = flag({ flagKey: 'premium_banner', ruleKey: 'premium_segment_rule', variationKey: 'on' });
  const everyoneElse = flag({
    flagKey: 'premium_banner',
    ruleKey: 'default-rollout-91000000002',
    variationKey: 'off',
    enabled: false,
  });

  it('by default an experiment gives the event and the profile property, a rollout the profile property alone', () => {
    const pipeline = makePipeline({ dedup: false });
    const experiment = pipeline.handle(flag(), datafile).exposure;
    expect(experiment?.events.map((e) => e.event)).toEqual(['Experiment Viewed']);
    expect(experiment?.profileUpdate.$set).toEqual({ '[Optimizely] checkout_redesign': 'variation_a' });
    for (const rollout of [targeted, everyoneElse]) {
      const { exposure } = pipeline.handle(rollout, datafile);
      expect(exposure?.events).toEqual([]);
      expect(exposure?.insertId).toBe('');
      expect(exposure?.profileUpdate.$set['[Optimizely] premium_banner']).toBe(rollout === targeted ? 'on' : 'off');
    }
  });

  it("rollouts: 'event' sends rollouts as experiments, 'off' skips them", () => {
    const events = makePipeline({ rollouts: 'event', dedup: false });
    expect(events.handle(targeted, datafile).exposure?.events).toHaveLength(1);
    expect(events.handle(everyoneElse, datafile).exposure?.events).toHaveLength(1);
    const off = makePipeline({ rollouts: 'off', dedup: false });
    expect(off.handle(targeted, datafile).skipReason).toBe('rollout_excluded');
    expect(off.handle(everyoneElse, datafile).skipReason).toBe('rollout_excluded');
    expect(off.handle(flag(), datafile).exposure?.events).toHaveLength(1);
  });

  it("exposure events carry the trace id given; traceIdOf gives a span's only when valid", () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const span = (id: string) => ({ spanContext: () => ({ traceId: id }) });
    const pipeline = makePipeline({ dedup: false, eventFormat: 'both' });
    const traced = pipeline.handle(flag(), datafile, traceIdOf(span(traceId))).exposure;
    expect(traced?.events.map((e) => e.properties.trace_id)).toEqual([traceId, traceId]);
    expect(pipeline.handle(flag(), datafile).exposure?.events[0]?.properties).not.toHaveProperty('trace_id');
    for (const id of ['0'.repeat(32), traceId.toUpperCase(), `${traceId}0`, traceId.slice(1), ''])
      expect(traceIdOf(span(id))).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
  });
});

describe('DecisionPipeline: skip rules', () => {
  it.each([
    [null, 'invalid_notification'],
    ['DECISION', 'invalid_notification'],
    [{ type: 'flag' }, 'invalid_notification'],
    [{ type: 'flag', userId: 'u', decisionInfo: null }, 'invalid_notification'],
    [{ type: 42, userId: 'u', decisionInfo: {} }, 'invalid_notification'],
    [{ type: 'mystery', userId: 'u', decisionInfo: {} }, 'unsupported_type'],
  ])('skips %j as %s', (payload, reason) => {
    expect(makePipeline().handle(payload).skipReason).toBe(reason);
  });

  it.each([
    [''],
    [null],
    [undefined],
    [123],
    ['anon'],
    ['NULL'],
    [' undefined '],
    ['0'],
    ['-1'],
    ['x'.repeat(256)],
    ['N/A'],
    ['é'.repeat(128)],
    ['user-\uD800-123456'],
    ['user-\uDC00-123456'],
    ['user-\u0000-123456'],
  ])('skips the user id %j', (userId) => {
    expect(makePipeline().handle(flag({}, userId)).skipReason).toBe('invalid_user_id');
  });

  it('skips empty, non-string, NUL or lone-surrogate flag keys, and does not count them as duplicates after', () => {
    expect(makePipeline().handle(flag({ flagKey: '' })).skipReason).toBe('invalid_flag_key');
    expect(makePipeline().handle(flag({ flagKey: 7 })).skipReason).toBe('invalid_flag_key');
    const pipeline = makePipeline();
    for (const flagKey of ['bad\uD83D', 'bad\u0000', 'bad\uD83D']) {
      expect(pipeline.handle(flag({ flagKey })).skipReason).toBe('invalid_flag_key');
    }
    // Valid and invalid keys in turns, one user each: every answer is the key's own.
    for (let i = 0; i < 6; i++) {
      const flagKey = i % 2 ? 'bad\u0000' : `flag_${i % 3}`;
      const { exposure, skipReason } = pipeline.handle(flag({ flagKey }, `user-${i}`));
      if (i % 2) expect(skipReason).toBe('invalid_flag_key');
      else expect(exposure?.profileProperty.name).toBe(`[Optimizely] ${flagKey}`);
    }
  });

  it('caps distinct ids by UTF-8 bytes and accepts 255 bytes', () => {
    expect(makePipeline().handle(flag({}, 'é'.repeat(127))).exposure?.distinctId).toBe('é'.repeat(127));
    expect(makePipeline().handle(flag({}, '😀'.repeat(63) + 'abc')).exposure).toBeDefined();
    expect(makePipeline().handle(flag({}, '😀'.repeat(64))).skipReason).toBe('invalid_user_id');
  });

  it('repairs lone surrogates and NUL in variation and rule keys', () => {
    const { exposure } = makePipeline().handle(flag({ variationKey: 'a\uD800b\u0000', ruleKey: 'r\uDC00' }));
    expect(exposure?.events[0]?.properties.variation_key).toBe('a\uFFFDb');
    expect(exposure?.events[0]?.properties.rule_key).toBe('r\uFFFD');
    expect(exposure?.profileUpdate.$set['[Optimizely] checkout_redesign']).toBe('a\uFFFDb');
    expect(Buffer.from(JSON.stringify(exposure?.events)).toString()).toBe(JSON.stringify(exposure?.events));
  });

  it('gives every later user the same repaired values, and keeps keys and prefixed ids apart', () => {
    const n = makePipeline();
    for (const user of ['u1', 'u2']) {
      const payload = flag({ variationKey: 'a\uD800', ruleKey: '7', experimentId: '7', variationId: 'a\uD800' }, user);
      const properties = n.handle(payload).exposure?.events[0]?.properties;
      expect(properties).toMatchObject({
        variation_key: 'a\uFFFD',
        rule_key: '7',
        experiment_id: 'exp_7',
        variation_id: 'var_a\uFFFD',
      });
    }
  });

  it('skips ruleless decisions unless asked, then reports the variation as off', () => {
    const payload = flag({ ruleKey: null, variationKey: null, enabled: false });
    const skipped = makePipeline().handle(payload);
    expect(skipped.skipReason).toBe('no_rule');
    expect(skipped.decision?.flagKey).toBe('checkout_redesign');
    expect(makePipeline().handle(flag({ ruleKey: '' })).skipReason).toBe('no_rule');
    const { exposure } = makePipeline({ includeRulelessDecisions: true }).handle(payload);
    expect(exposure?.variationKey).toBe('off');
    expect(exposure?.ruleKey).toBe('');
    expect(exposure?.profileUpdate.$set['[Optimizely] checkout_redesign']).toBe('off');
  });

  it('skips an enabled decision with no variation key', () => {
    expect(makePipeline().handle(flag({ variationKey: '' })).skipReason).toBe('no_variation');
  });

  it('tells rollouts from experiments by the client config, and gives rollouts what `rollouts` says', () => {
    const everyoneElse = flag({ ruleKey: 'default-rollout-91000000002', variationKey: 'off', enabled: false });
    const included = makePipeline({ rollouts: 'event' }).handle(everyoneElse);
    expect(included.exposure?.ruleKind).toBe('everyone_else');
    expect(included.exposure?.events).toHaveLength(1);
    expect(makePipeline({ rollouts: 'off' }).handle(everyoneElse).skipReason).toBe('rollout_excluded');

    const targeted = flag({ flagKey: 'premium_banner', ruleKey: 'premium_segment_rule', variationKey: 'on' });
    // Without the datafile a named delivery rule cannot be told from an experiment.
    expect(makePipeline({ rollouts: 'off' }).handle(targeted).exposure?.ruleKind).toBe('unknown');
    const config = {
      environmentKey: undefined,
      revision: undefined,
      ruleKinds: new Map([['premium_banner', new Map([['premium_segment_rule', 'rollout' as const]])]]),
    };
    expect(makePipeline({ rollouts: 'off' }).handle(targeted, config).skipReason).toBe('rollout_excluded');
    expect(makePipeline().handle(targeted, config).exposure?.ruleKind).toBe('rollout');
    expect(makePipeline().handle(targeted, config).decision?.ruleKind).toBe('rollout');
  });

  it('skips legacy decision types by default and maps those naming a variation when asked', () => {
    const activate = {
      type: 'feature-test',
      userId: 'user-123',
      attributes: {},
      decisionInfo: { experimentKey: 'checkout_redesign_ab', variationKey: 'variation_a' },
    };
    const featureTest = {
      type: 'feature',
      userId: 'user-123',
      attributes: {},
      decisionInfo: {
        featureKey: 'checkout_redesign',
        featureEnabled: true,
        source: 'feature-test',
        sourceInfo: { experimentKey: 'checkout_redesign_ab', variationKey: 'variation_a' },
      },
    };
    const rollout = {
      type: 'feature',
      userId: 'user-123',
      attributes: {},
      decisionInfo: { featureKey: 'premium_banner', featureEnabled: false, source: 'rollout', sourceInfo: {} },
    };
    const plain = makePipeline();
    expect(plain.handle(activate).skipReason).toBe('legacy_type');
    expect(plain.handle(featureTest).skipReason).toBe('legacy_type');

    const legacy = makePipeline({ legacy: readLegacyDecision });
    expect(legacy.handle(activate).exposure).toMatchObject({
      flagKey: 'checkout_redesign_ab',
      ruleKey: 'checkout_redesign_ab',
      variationKey: 'variation_a',
      decisionType: 'feature-test',
    });
    expect(legacy.handle(featureTest).exposure).toMatchObject({
      flagKey: 'checkout_redesign',
      ruleKey: 'checkout_redesign_ab',
      variationKey: 'variation_a',
      enabled: true,
    });
    expect(legacy.handle(rollout).skipReason).toBe('no_variation');
    expect(legacy.handle({ ...activate, decisionInfo: { experimentKey: 'x', variationKey: null } }).skipReason).toBe(
      'no_variation',
    );
  });

  it('never throws on payloads whose getters throw', () => {
    const hostile = {
      type: 'flag',
      userId: 'user-123',
      get decisionInfo(): never {
        throw new Error('boom');
      },
    };
    expect(makePipeline().handle(hostile).skipReason).toBe('invalid_notification');
  });
});

describe('DecisionPipeline: attributes and limits', () => {
  it('forwards no user attributes unless allowlisted, and only scalar values', () => {
    const attributes = { plan: 'pro', email: 'a@example.com', seats: 3, beta: true, nested: { a: 1 }, nan: Number.NaN };
    const none = makePipeline().handle(flag({}, 'user-123', attributes)).exposure;
    expect(none?.events[0]?.properties).not.toHaveProperty('plan');
    expect(none?.events[0]?.properties).not.toHaveProperty('email');

    const some = makePipeline({ attributeAllowlist: ['plan', 'seats', 'beta', 'nested', 'nan', 'absent'] }).handle(
      flag({}, 'user-123', attributes),
    ).exposure;
    const props = some?.events[0]?.properties;
    expect(props).toMatchObject({ plan: 'pro', seats: 3, beta: true });
    expect(props).not.toHaveProperty('email');
    expect(props).not.toHaveProperty('nested');
    expect(props).not.toHaveProperty('nan');
    expect(props).not.toHaveProperty('absent');
  });

  it('ignores inherited attributes', () => {
    const attributes = Object.create({ plan: 'inherited' });
    const exposure = makePipeline({ attributeAllowlist: ['plan'] }).handle(flag({}, 'user-123', attributes)).exposure;
    expect(exposure?.events[0]?.properties).not.toHaveProperty('plan');
  });

  it('caps names at 255 characters and string values at 255 UTF-8 bytes', () => {
    const longFlag = 'f'.repeat(400);
    const longVariation = 'é'.repeat(200); // 400 bytes
    const { exposure } = makePipeline().handle(flag({ flagKey: longFlag, variationKey: longVariation }));
    const [profileName] = Object.keys(exposure?.profileUpdate.$set ?? {});
    expect(profileName).toHaveLength(255);
    const value = exposure?.profileUpdate.$set[profileName as string] as string;
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(255);
    expect(value).toBe('é'.repeat(127));
    expect(Buffer.byteLength(exposure?.events[0]?.properties.flag_key as string)).toBe(255);
  });

  it('cannot be made to pollute prototypes through keys', () => {
    const n = makePipeline({ profilePropertyPrefix: '' });
    // The second user's update is copied from the first one's: both must hold an own property.
    for (const user of ['user-1', 'user-2']) {
      const { exposure } = n.handle(flag({ flagKey: '__proto__', variationKey: 'polluted' }, user));
      expect(Object.hasOwn(exposure?.profileUpdate.$set ?? {}, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(exposure?.profileUpdate.$set)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(JSON.stringify(exposure?.profileUpdate.$set)).toBe('{"__proto__":"polluted"}');
    }
  });

  it('gives each exposure a profile update of its own: changing one leaves the next alone', () => {
    const n = makePipeline();
    const first = n.handle(flag({}, 'user-1')).exposure;
    if (!first) throw new Error('expected an exposure');
    first.profileUpdate.$set['[Optimizely] checkout_redesign'] = 'changed by a hook';
    first.profileUpdate.$set.extra = 'x';
    const second = n.handle(flag({}, 'user-2')).exposure;
    expect(second?.profileUpdate.$set).toEqual({ '[Optimizely] checkout_redesign': 'variation_a' });
  });
});

describe('DecisionPipeline: dedup and insert ids', () => {
  it('skips the same exposure within the window and exports it again after', () => {
    const clock = { now: T0 };
    const n = makePipeline({ dedup: { windowMs: 60_000 } }, clock);
    const first = n.handle(flag()).exposure;
    expect(first).toBeDefined();
    clock.now += 59_000;
    expect(n.handle(flag()).skipReason).toBe('duplicate');
    clock.now += 2_000;
    const again = n.handle(flag()).exposure;
    expect(again).toBeDefined();
    expect(again?.insertId).not.toBe(first?.insertId);
  });

  it('treats a changed variation, rule or user as a new exposure, and a change back too', () => {
    const n = makePipeline();
    expect(n.handle(flag()).exposure).toBeDefined();
    expect(n.handle(flag()).skipReason).toBe('duplicate');
    expect(n.handle(flag({ variationKey: 'control' })).exposure).toBeDefined();
    expect(n.handle(flag({ variationKey: 'control' })).skipReason).toBe('duplicate');
    // Back to the first variation: the profile property must follow, so it is exported again.
    expect(n.handle(flag()).exposure?.profileUpdate.$set['[Optimizely] checkout_redesign']).toBe('variation_a');
    expect(n.handle(flag({ ruleKey: 'other_rule' })).exposure).toBeDefined();
    expect(n.handle(flag({}, 'user-456')).exposure).toBeDefined();
    expect(n.handle(flag({}, 'user-456')).skipReason).toBe('duplicate');
  });

  it('reads the dedup window from dedupClock and stamps exposures from now', () => {
    const clock = { now: T0, coarse: T0 };
    const n = new DecisionPipeline({
      now: () => clock.now,
      dedupClock: () => clock.coarse,
      dedup: { windowMs: 60_000 },
    });
    expect(n.handle(flag()).exposure?.timestamp).toBe(T0);
    clock.now += 120_000; // the precise clock moved past the window, the coarse one did not
    expect(n.isRepeat(flag())).toBe(true);
    expect(n.handle(flag()).skipReason).toBe('duplicate');
    clock.coarse += 120_000;
    expect(n.handle(flag()).exposure?.timestamp).toBe(T0 + 120_000);
  });

  it('reads now once per decision when it is also the dedup clock', () => {
    let reads = 0;
    const n = new DecisionPipeline({ now: () => T0 + 1_000 * reads++, dedup: { windowMs: 60_000 } });
    expect(n.handle(flag()).exposure).toBeDefined();
    const before = reads;
    expect(n.handle(flag()).skipReason).toBe('duplicate');
    expect(n.handle(flag({}, 'user-456')).exposure).toBeDefined();
    expect(reads - before).toBe(2);
  });

  it('exports every decision with dedup off', () => {
    const n = makePipeline({ dedup: false });
    expect(n.handle(flag()).exposure).toBeDefined();
    expect(n.handle(flag()).exposure).toBeDefined();
  });

  it('derives the same insert id in another process within the same window bucket', () => {
    const windowMs = 30 * 60_000;
    const bucketStart = Math.floor(T0 / windowMs) * windowMs;
    const a = makePipeline({}, { now: bucketStart + 1_000 }).handle(flag()).exposure;
    const b = makePipeline({}, { now: bucketStart + 1_500_000 }).handle(flag()).exposure;
    const c = makePipeline({}, { now: bucketStart + windowMs }).handle(flag()).exposure;
    expect(a?.insertId).toBe(b?.insertId);
    expect(c?.insertId).not.toBe(a?.insertId);
    const other = makePipeline({}, { now: bucketStart + 1_000 }).handle(flag({ variationKey: 'control' })).exposure;
    expect(other?.insertId).not.toBe(a?.insertId);
  });

  it('does not confuse tuples that concatenate alike', () => {
    const n = makePipeline();
    const a = n.handle(flag({ flagKey: 'ab', ruleKey: 'c' }, 'u1')).exposure;
    const b = n.handle(flag({ flagKey: 'a', ruleKey: 'bc' }, 'u1')).exposure;
    expect(b).toBeDefined();
    expect(a?.insertId).not.toBe(b?.insertId);
  });

  it('forget() lets the same exposure through again', () => {
    const n = makePipeline();
    const first = n.handle(flag()).exposure;
    if (!first) throw new Error('expected an exposure');
    n.forget(first);
    expect(n.handle(flag()).exposure?.insertId).toBe(first.insertId);
  });
});

describe('ExposurePipeline: a given dedup memory', () => {
  /** The smallest memory with the contract's semantics: one entry per (user, flag). */
  function mapDeduplicator(windowMs: number): Deduplicator & { forgotten: string[] } {
    const entries = new Map<string, [string, string, number]>();
    const forgotten: string[] = [];
    return {
      windowMs,
      forgotten,
      seen(userId, flagKey, ruleKey, variationKey, nowMs) {
        const key = JSON.stringify([userId, flagKey]);
        const e = entries.get(key);
        if (e && e[0] === ruleKey && e[1] === variationKey && nowMs - e[2] < windowMs) return true;
        entries.set(key, [ruleKey, variationKey, nowMs]);
        return false;
      },
      forget(userId, flagKey) {
        forgotten.push(`${userId}/${flagKey}`);
        entries.delete(JSON.stringify([userId, flagKey]));
      },
    };
  }

  it('gives the exposure, time and $insert_id the server table gives', () => {
    for (const windowMs of [30 * 60_000, 60_000]) {
      const server = makePipeline({ dedup: { windowMs } }).handle(flag()).exposure;
      const page = new ExposurePipeline({ now: () => T0 }, mapDeduplicator(windowMs)).handle(flag()).exposure;
      // The server's records are built on first read: read here, they are the page's.
      expect(page).toEqual({ ...server, events: server?.events, profileUpdate: server?.profileUpdate });
      expect(page?.events).toEqual(server?.events);
      // A page's exposure is plain data: no ids it lacks, no user id equal to the distinct id.
      expect(Object.keys(page ?? {}).sort()).toEqual(Object.keys({ ...server, events: 0, profileUpdate: 0 }).sort());
      expect(page?.events).toHaveLength(1);
    }
  });

  it('dedups and forgets through the given memory', () => {
    const memory = mapDeduplicator(60_000);
    const n = new ExposurePipeline({ now: () => T0 }, memory);
    const exposure = n.handle(flag()).exposure;
    expect(exposure).toBeDefined();
    expect(n.handle(flag()).skipReason).toBe('duplicate');
    expect(n.handle(flag({ variationKey: 'control' })).exposure).toBeDefined();
    expect(n.handle(flag()).exposure).toBeDefined();
    n.forget(exposure as NonNullable<typeof exposure>);
    expect(memory.forgotten).toEqual(['user-123/checkout_redesign']);
    expect(n.handle(flag()).exposure).toBeDefined();
  });

  it('exports every decision with no memory', () => {
    const n = new ExposurePipeline({}, undefined);
    expect(n.handle(flag()).exposure).toBeDefined();
    expect(n.handle(flag()).exposure).toBeDefined();
  });

  it('builds Experiment Viewed alone with the default builder; FormatRecordBuilder reads and checks eventFormat', () => {
    const plain = new ExposurePipeline({ eventFormat: 'both' }, undefined).handle(flag()).exposure;
    expect(plain?.events.map((e) => e.event)).toEqual(['Experiment Viewed']);
    const warnings: string[] = [];
    const formats = (eventFormat: unknown) =>
      new ExposurePipeline(
        { eventFormat: eventFormat as EventFormat, warn: (m) => warnings.push(m) },
        undefined,
        undefined,
        FormatRecordBuilder,
      )
        .handle(flag())
        .exposure?.events.map((e) => e.event);
    expect(formats('both')).toEqual(['Experiment Viewed', '$experiment_started']);
    expect(formats('experiment_started')).toEqual(['$experiment_started']);
    expect(warnings).toEqual([]);
    expect(formats('bogus')).toEqual(['Experiment Viewed']);
    expect(warnings).toEqual([
      'eventFormat is invalid: its default applies (one of experiment_viewed, experiment_started, both)',
    ]);
  });

  it('builds records as the remembering builder does, for any format and datafile strings, every time', () => {
    const formats: EventFormat[] = ['experiment_viewed', 'experiment_started', 'both'];
    const keys = ['variation_a', 'v\uD800x', 'v\0', 'é'.repeat(200), '__proto__'];
    for (const eventFormat of formats) {
      const server = makePipeline({ eventFormat, dedup: false, attributeAllowlist: ['plan'] });
      const page = new ExposurePipeline(
        { now: () => T0, eventFormat },
        undefined,
        attributePicker(['plan'], () => {}),
        FormatRecordBuilder,
      );
      // Twice: the second round reads what the remembering builder remembered.
      for (const round of [1, 2]) {
        for (const key of keys) {
          const n = flag(
            { variationKey: key, ruleKey: `${key}_rule`, experimentId: 4, variationId: undefined },
            `user-${round}`,
            {
              plan: `pro ${key}`,
              $device_id: 'd-1',
            },
          );
          const a = server.handle(n).exposure;
          const b = page.handle(n).exposure;
          expect(b?.events).toEqual(a?.events);
          expect(b?.profileUpdate).toEqual(a?.profileUpdate);
          expect(b?.events.length).toBeGreaterThan(0);
          // No variation id to carry; the SDK user id kept, as it differs from the device's distinct id.
          expect(b).toEqual({ ...a, events: a?.events, profileUpdate: a?.profileUpdate });
          expect(Object.keys(b ?? {}).sort()).toEqual(Object.keys({ ...a, events: 0, profileUpdate: 0 }).sort());
          expect(b).not.toHaveProperty('variationId');
          expect(b?.userId).toBe(`user-${round}`);
        }
      }
    }
  });
});

describe('deliverWith: the hook given as its runner', () => {
  const sink = (sent: Exposure[]) => ({
    send: (e: Exposure) => {
      sent.push(e);
      return undefined;
    },
  });

  it('with runExposureHook as the runner, counts, sends and reports as deliver does with the hook', () => {
    const hooks: ExposureHook[] = [
      (e) => {
        e.events = [];
      },
      () => false,
      () => {
        throw new Error('hook failed');
      },
      (e) => {
        (e.events[0] as { properties: Record<string, unknown> }).properties.time = 'later';
      },
      () => Promise.resolve(),
    ];
    for (const hook of hooks) {
      const outcomes = [deliver, 'runner'].map((how) => {
        const sent: Exposure[] = [];
        const counted: Array<[SkipReason, boolean | undefined]> = [];
        const reported: string[] = [];
        const outcome = makePipeline({ dedup: false }).handle(flag());
        const count = (r: SkipReason, removal?: boolean) => counted.push([r, removal]);
        const report = (p: string) => reported.push(p);
        const result =
          how === deliver
            ? deliver(outcome, sink(sent), hook, count, report)
            : deliverWith(outcome, sink(sent), (e, d, c, r) => runExposureHook(hook, e, d, c, r), count, report);
        return { result, counted, reported, sent: sent.map((e) => e.events.length) };
      });
      expect(outcomes[1]).toEqual(outcomes[0]);
    }
  });

  it('a runner that keeps nothing drops the exposure, unsent and counted', () => {
    const sent: Exposure[] = [];
    const counted: SkipReason[] = [];
    const result = deliverWith(
      makePipeline({ dedup: false }).handle(flag()),
      sink(sent),
      () => false,
      (r) => counted.push(r),
      () => {},
    );
    expect([result, counted, sent]).toEqual(['dropped_by_hook', ['dropped_by_hook'], []]);
  });
});

describe('DecisionPipeline.isRepeat', () => {
  it('answers exactly the decisions handle() would call duplicates, whatever comes in between', () => {
    // One pipeline asks isRepeat() first, as the Node handler does; the other handles everything.
    const clock = { now: T0 };
    const asking = makePipeline({}, clock);
    const handling = makePipeline({}, clock);
    const users = ['user-1', 'user-2', 'anon', '', 42, undefined];
    const variants = [
      {},
      { variationKey: 'variation_b' },
      { ruleKey: null },
      { ruleKey: 'default-rollout-7', variationKey: 'on' },
      { enabled: false, variationKey: '' },
      { flagKey: 'other_flag' },
      { flagKey: '' },
    ];
    const seen: string[] = [];
    for (let i = 0; i < 400; i++) {
      clock.now = T0 + i * 17_000; // crosses the 30-minute window
      const n = flag(variants[i % variants.length], users[Math.floor(i / variants.length) % users.length]);
      const repeat = asking.isRepeat(n);
      const asked = repeat ? 'duplicate' : (asking.handle(n).skipReason ?? 'exported');
      const handled = handling.handle(n).skipReason ?? 'exported';
      expect(asked).toBe(handled);
      seen.push(asked);
    }
    expect(new Set(seen)).toEqual(new Set(['exported', 'duplicate', 'no_rule', 'invalid_user_id', 'invalid_flag_key']));
  });

  it('is false for anything but a repeated flag decision, and never throws', () => {
    const pipeline = makePipeline();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('hostile');
        },
      },
    );
    for (const n of [null, 1, 'x', {}, { type: 'flag' }, hostile, flag()]) expect(pipeline.isRepeat(n)).toBe(false);
    expect(new DecisionPipeline({ dedup: false }).isRepeat(flag())).toBe(false);
  });
});
