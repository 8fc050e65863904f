import { resolve } from 'node:path';
import { FileCohortStore } from './file-store.js';
import { RedisCohortStore } from './redis-store.js';
import type { CohortStore } from './types.js';

/** Options of {@link openCohortStore}. */
export interface OpenCohortStoreOptions {
  /** Called with Redis connection errors (the client reconnects by itself). */
  onError?: (error: Error) => void;
  /** Prefix of Redis keys (default `mixpanel-cohorts:`). */
  keyPrefix?: string;
  /** Let the process exit while a Redis connection is open (readers in app processes). */
  unref?: boolean;
}

/** Whether `location` names a Redis server rather than a file. */
export function isRedisUrl(location: string): boolean {
  return /^rediss?:\/\//i.test(location.trim());
}

/**
 * Opens the store a location names: `redis://` or `rediss://` URLs give a
 * {@link RedisCohortStore}, anything else is a file path for a
 * {@link FileCohortStore}.
 */
export function openCohortStore(location: string, options: OpenCohortStoreOptions = {}): CohortStore {
  const spec = location.trim();
  if (!spec) throw new TypeError('the cohort store location is empty');
  if (isRedisUrl(spec)) {
    return new RedisCohortStore({
      url: spec,
      ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      unref: options.unref === true,
    });
  }
  return new FileCohortStore(resolve(spec));
}

/** A store location for logs: a Redis URL without its password. */
export function describeLocation(location: string): string {
  if (!isRedisUrl(location)) return location;
  try {
    const url = new URL(location.trim());
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'redis://(unparsable URL)';
  }
}
