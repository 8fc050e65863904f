import type { AcceptedEvent } from './validate.js';

/** An event Mixpanel would keep, with where it came from. */
export interface StoredEvent extends AcceptedEvent {
  endpoint: '/track' | '/import';
  receivedAt: number;
}

/** A profile update as received on `/engage`. */
export interface StoredProfileUpdate {
  distinctId: string;
  operation: string;
  value: unknown;
  receivedAt: number;
  /** The update as it arrived, `$token` included: mask it before showing it. */
  record: Record<string, unknown>;
}

/** What one request did, for tests and the CLI (no credentials kept). */
export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  records: number;
  accepted: number;
  duplicates: number;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  fault?: string | undefined;
  error?: string | undefined;
  receivedAt: number;
}

const PROFILE_OPERATIONS = ['$set', '$set_once', '$unset', '$add', '$append', '$union', '$remove', '$delete'];

/** Accepted events (deduplicated as Mixpanel does), profiles and the request log. */
export class Store {
  readonly events: StoredEvent[] = [];
  readonly profileUpdates: StoredProfileUpdate[] = [];
  readonly profiles = new Map<string, Record<string, unknown>>();
  readonly requests: RequestLogEntry[] = [];
  /** Events dropped as duplicates of `(event, time, distinct_id, $insert_id)`. */
  duplicates = 0;
  private readonly keys = new Set<string>();

  /** Adds an event unless Mixpanel would treat it as a duplicate; returns whether it was new. */
  addEvent(event: StoredEvent): boolean {
    const p = event.properties;
    if (p.$insert_id !== undefined) {
      const key = JSON.stringify([event.event, p.time, p.distinct_id ?? null, p.$insert_id]);
      if (this.keys.has(key)) {
        this.duplicates++;
        return false;
      }
      this.keys.add(key);
    }
    this.events.push(event);
    return true;
  }

  /** Applies one `/engage` update; returns an error message when it is not one. */
  applyProfileUpdate(update: Record<string, unknown>, receivedAt: number): string | undefined {
    const distinctId = update.$distinct_id;
    if (typeof distinctId !== 'string' || distinctId.length === 0) return "'$distinct_id' must be specified";
    const operations = PROFILE_OPERATIONS.filter((op) => op in update);
    if (operations.length !== 1) return 'exactly one profile operation ($set, $set_once, ...) is required';
    const operation = operations[0] as string;
    const value = update[operation];
    const profile = this.profiles.get(distinctId) ?? Object.create(null);
    if (operation === '$delete') {
      this.profiles.delete(distinctId);
    } else if (value && typeof value === 'object') {
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        if (operation === '$set') profile[name] = v;
        else if (operation === '$set_once' && !(name in profile)) profile[name] = v;
        else if (operation === '$add') profile[name] = (Number(profile[name]) || 0) + Number(v);
        else if (operation === '$append' || operation === '$union') {
          const list = Array.isArray(profile[name]) ? profile[name] : [];
          profile[name] =
            operation === '$union' ? [...new Set([...list, ...(Array.isArray(v) ? v : [v])])] : [...list, v];
        } else if (operation === '$remove' && Array.isArray(profile[name])) {
          profile[name] = profile[name].filter((x: unknown) => x !== v);
        }
      }
      this.profiles.set(distinctId, profile);
    } else if (operation === '$unset' && Array.isArray(value)) {
      for (const name of value) delete profile[String(name)];
      this.profiles.set(distinctId, profile);
    } else {
      return `'${operation}' must be an object`;
    }
    this.profileUpdates.push({ distinctId, operation, value, receivedAt, record: update });
    return undefined;
  }

  clear(): void {
    this.events.length = 0;
    this.profileUpdates.length = 0;
    this.profiles.clear();
    this.requests.length = 0;
    this.keys.clear();
    this.duplicates = 0;
  }
}
