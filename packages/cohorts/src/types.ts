/** The three actions of Mixpanel's cohort Custom Webhook. */
export type CohortAction = 'members' | 'add_members' | 'remove_members';

/** One validated webhook request, reduced to what the store needs. */
export interface CohortRequest {
  action: CohortAction;
  cohortId: string;
  /** `mixpanel_cohort_name`; undefined when Mixpanel did not send one. */
  cohortName: string | undefined;
  /** `mixpanel_session_id`: the pages of one sync share it. */
  sessionId: string | undefined;
  /** 1-based page number (`page_info.page_count`). */
  page: number;
  /** `page_info.total_pages`. */
  totalPages: number;
  /** The `mixpanel_distinct_id` of each member, deduplicated. */
  members: string[];
}

/** What became of a request the store accepted. */
export interface ApplyResult {
  /** `applied`: membership changed or was confirmed; `staged`: a page of a full sync waits for the rest; `duplicate`: already applied. */
  outcome: 'applied' | 'staged' | 'duplicate';
  /** Members of the cohort after the request (undefined while staged). */
  count?: number;
}

/** A cohort as stored: the version grows with every change of its membership or name. */
export interface CohortInfo {
  id: string;
  name: string;
  version: number;
  count: number;
}

/**
 * Where cohort membership lives: written by the receiver, read by every app
 * process's replica. {@link FileCohortStore} (embedded) and
 * {@link RedisCohortStore} (fleets) implement it.
 */
export interface CohortStore {
  /** Applies one validated request atomically and idempotently. Rejects when the store is unavailable. */
  apply(request: CohortRequest): Promise<ApplyResult>;
  /** Every cohort with its version: cheap, polled by replicas. */
  cohorts(): Promise<CohortInfo[]>;
  /** The members of one cohort (empty when unknown). */
  members(cohortId: string): Promise<string[]>;
  /**
   * Calls `onChange` soon after any change, made by this or another process
   * (pub/sub or polling). Returns the function that stops watching.
   */
  watch(onChange: () => void): () => void;
  /** Releases connections, timers and file handles. */
  close(): Promise<void>;
  /**
   * Optional: every cohort with its members, read synchronously. Stores that
   * can (a local file) let a replica start complete, before the first user
   * context is created.
   */
  snapshotSync?(): Array<CohortInfo & { members: string[] }>;
}

/** A store request that cannot be satisfied now; the receiver answers 503 so Mixpanel retries. */
export class RetryableStoreError extends Error {
  override name = 'RetryableStoreError';
}
