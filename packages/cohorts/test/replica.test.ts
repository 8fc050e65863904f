import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../../test/support/redis.js';
import {
  CohortReplica,
  type CohortRequest,
  type CohortStore,
  FileCohortStore,
  RedisCohortStore,
  segmentName,
} from '../src/index.js';
import { waitFor } from './helpers.js';

class TestReader extends MetricReader {
  protected override onForceFlush() {
    return Promise.resolve();
  }
  protected override onShutdown() {
    return Promise.resolve();
  }
}

let redis: RedisServer;
const dir = mkdtempSync(join(tmpdir(), 'cohort-replica-'));
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const request = (
  action: CohortRequest['action'],
  cohortId: string,
  name: string,
  members: string[],
): CohortRequest => ({
  action,
  cohortId,
  cohortName: name,
  sessionId: undefined,
  page: 1,
  totalPages: 1,
  members,
});

describe('segmentName', () => {
  it('lower-cases the cohort name and turns each run of other characters into one _', () => {
    expect(segmentName('Power Users')).toBe('mixpanel_power_users');
    expect(segmentName('VIP -- Tier 2 (EU)')).toBe('mixpanel_vip_tier_2_eu_');
    expect(segmentName('Größe')).toBe('mixpanel_gr_e');
  });
});

let n = 0;
describe.each(['file', 'redis'] as const)('CohortReplica on the %s store', (kind) => {
  const open = (id = ++n): CohortStore =>
    kind === 'file'
      ? new FileCohortStore(join(dir, `r${id}.json`))
      : new RedisCohortStore({ url: redis.url, keyPrefix: `r${id}:` });

  it('follows the store: full syncs, diffs, renames; one lookup per user', async () => {
    const id = ++n;
    const writer = open(id);
    const reader = open(id); // the same file or keys, as another process would open them
    if (writer instanceof RedisCohortStore) await writer.ready();
    if (reader instanceof RedisCohortStore) await reader.ready();
    await writer.apply(request('members', '1', 'Power Users', ['u1', 'u2']));
    const replica = new CohortReplica(reader, { segments: { '2': 'beta' } });
    await replica.ready();
    expect(replica.segmentsFor('u1')).toEqual(['mixpanel_power_users']);
    expect(replica.segmentsFor('nobody')).toBeUndefined();

    await writer.apply(request('members', '2', 'Beta Testers', ['u2', 'u3']));
    await waitFor(() => replica.segmentsFor('u3') !== undefined, 'the second cohort');
    expect(replica.segmentsFor('u2')).toEqual(['beta', 'mixpanel_power_users']);
    // Users in the same cohorts share one list.
    await writer.apply(request('add_members', '2', 'Beta Testers', ['u1']));
    await waitFor(() => replica.segmentsFor('u1')?.length === 2, 'u1 in both');
    expect(replica.segmentsFor('u1')).toBe(replica.segmentsFor('u2'));

    await writer.apply(request('remove_members', '1', 'Power Users', ['u1', 'u2']));
    await waitFor(() => replica.segmentsFor('u2')?.length === 1, 'u2 out of power users');
    expect(replica.segmentsFor('u1')).toEqual(['beta']);

    await writer.apply(request('members', '1', 'Heavy Users', ['u9']));
    await waitFor(() => replica.segmentsFor('u9') !== undefined, 'the renamed cohort');
    expect(replica.segmentsFor('u9')).toEqual(['mixpanel_heavy_users']);
    expect(replica.cohorts().sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: '1', name: 'Heavy Users', segment: 'mixpanel_heavy_users', count: 1 },
      { id: '2', name: 'Beta Testers', segment: 'beta', count: 3 },
    ]);
    replica.close();
    await reader.close();
    await writer.close();
  });

  it('reports the members of each cohort as a gauge', async () => {
    const store = open();
    if (store instanceof RedisCohortStore) await store.ready();
    await store.apply(request('members', '7', 'Power Users', ['a', 'b', 'c']));
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const replica = new CohortReplica(store, { meter: provider.getMeter('test') });
    await replica.ready();
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics[0]?.metrics.find(
      (m) => m.descriptor.name === 'mixpanel.cohort.members',
    );
    expect(metric?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'mixpanel.cohort.id': '7', 'optimizely.segment': 'mixpanel_power_users' }, 3],
    ]);
    replica.close();
    await provider.shutdown();
    await store.close();
  });
});

describe('CohortReplica on a file', () => {
  it('is complete as soon as it is constructed: the file is read synchronously once', async () => {
    const path = join(dir, 'sync.json');
    const writer = new FileCohortStore(path);
    await writer.apply(request('members', '1', 'Power Users', ['u1']));
    const replica = new CohortReplica(new FileCohortStore(path));
    expect(replica.segmentsFor('u1')).toEqual(['mixpanel_power_users']);
    await replica.ready();
    replica.close();
  });
});

describe('CohortReplica started before Redis answers', () => {
  it('reads once the first connection is up: no error, loaded when ready() resolves', async () => {
    const writer = new RedisCohortStore({ url: redis.url, keyPrefix: 'early:' });
    await writer.ready();
    await writer.apply(request('members', '1', 'Power Users', ['u1']));
    // Constructed at once, as a process does at start: the client is still connecting.
    const errors: Error[] = [];
    const store = new RedisCohortStore({ url: redis.url, keyPrefix: 'early:' });
    const replica = new CohortReplica(store, { onError: (e) => errors.push(e) });
    await replica.ready();
    expect(replica.segmentsFor('u1')).toEqual(['mixpanel_power_users']);
    expect(errors).toEqual([]);
    replica.close();
    await store.close();
    await writer.close();
  });

  it('reports a Redis that never answers after the connect timeout, without hanging', async () => {
    // A port with nothing listening: the client keeps retrying, the first read gives up.
    const own = await startRedis();
    await own.stop();
    const errors: Error[] = [];
    const store = new RedisCohortStore({ url: own.url });
    const replica = new CohortReplica(store, { onError: (e) => errors.push(e) });
    await replica.ready();
    expect(errors.map((e) => e.message)).toEqual(['Redis is not connected']);
    expect(replica.segmentsFor('u1')).toBeUndefined();
    replica.close();
    await store.close();
  }, 15_000);
});

describe('CohortReplica when the store fails', () => {
  it('keeps serving what it had and reports the error', async () => {
    const own = await startRedis();
    const store = new RedisCohortStore({ url: own.url });
    await store.ready();
    await store.apply(request('members', '1', 'Power Users', ['u1']));
    const errors: Error[] = [];
    const replica = new CohortReplica(store, { onError: (e) => errors.push(e) });
    await replica.ready();
    await own.stop();
    await replica.refresh();
    expect(errors.length).toBeGreaterThan(0);
    expect(replica.segmentsFor('u1')).toEqual(['mixpanel_power_users']);
    replica.close();
    await store.close();
  });
});
