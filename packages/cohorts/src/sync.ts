import { type ApplyResult, type CohortRequest, RetryableStoreError } from './types.js';

/**
 * The storage steps a full sync and the diffs need. Each store implements them
 * atomically; {@link applyRequest} holds the protocol logic once for all stores.
 */
export interface SyncSteps {
  /** Whether the full sync `sessionId` of the cohort was already applied. */
  isDone(cohortId: string, sessionId: string): Promise<boolean>;
  /** Keeps one page of a full sync (replacing a re-sent page); returns the page numbers held for the session. */
  stagePage(request: CohortRequest & { sessionId: string }): Promise<number[]>;
  /** The members of every page held for the session. */
  stagedMembers(cohortId: string, sessionId: string): Promise<string[]>;
  /** Replaces the cohort's members, drops its staged pages, and remembers `sessionId` as done. Returns the count. */
  replace(
    cohortId: string,
    name: string | undefined,
    members: string[],
    sessionId: string | undefined,
  ): Promise<number>;
  /** Adds or removes members; returns the count after. */
  change(cohortId: string, name: string | undefined, members: string[], add: boolean): Promise<number>;
}

/**
 * Applies one webhook request. A full sync (`members`) replaces the cohort
 * only once every one of its pages is held, so a sync that fails midway changes
 * nothing; re-sent pages replace their earlier copy; pages of a sync already
 * applied are acknowledged and ignored. Diffs are set operations, so re-sending
 * them is harmless.
 * @throws RetryableStoreError when the last page arrives but earlier ones are missing.
 */
export async function applyRequest(steps: SyncSteps, request: CohortRequest): Promise<ApplyResult> {
  const { action, cohortId, cohortName, sessionId } = request;
  if (action !== 'members') {
    const count = await steps.change(cohortId, cohortName, request.members, action === 'add_members');
    return { outcome: 'applied', count };
  }
  if (sessionId !== undefined && (await steps.isDone(cohortId, sessionId))) return { outcome: 'duplicate' };
  if (request.totalPages === 1 || sessionId === undefined) {
    return { outcome: 'applied', count: await steps.replace(cohortId, cohortName, request.members, sessionId) };
  }
  const pages = await steps.stagePage({ ...request, sessionId });
  if (pages.length >= request.totalPages) {
    const members = await steps.stagedMembers(cohortId, sessionId);
    return { outcome: 'applied', count: await steps.replace(cohortId, cohortName, members, sessionId) };
  }
  if (request.page === request.totalPages) {
    const held = new Set(pages);
    const missing: number[] = [];
    for (let p = 1; p <= request.totalPages && missing.length < 10; p++) if (!held.has(p)) missing.push(p);
    // 5xx: Mixpanel retries, then restarts the sync from its first page.
    throw new RetryableStoreError(
      `page(s) ${missing.join(', ')} of ${request.totalPages} of sync ${sessionId} never arrived; the cohort is unchanged until the sync is sent again`,
    );
  }
  return { outcome: 'staged' };
}
