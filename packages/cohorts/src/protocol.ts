import type { CohortAction, CohortRequest } from './types.js';

const ACTIONS: readonly CohortAction[] = ['members', 'add_members', 'remove_members'];

/** Mixpanel's reply shape for its Custom Webhook. */
export interface WebhookReply {
  action?: string;
  status: 'success' | 'failure';
  error?: { message: string; code: number };
}

/** A request body that is not a cohort webhook call; `message` says what is wrong. */
export class PayloadError extends Error {
  override name = 'PayloadError';
  constructor(
    message: string,
    readonly action?: string,
  ) {
    super(message);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function id(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/**
 * Validates a parsed webhook body and reduces it to a {@link CohortRequest}.
 * Nothing partial: any problem throws a {@link PayloadError} naming the field.
 */
export function parseCohortRequest(body: unknown): CohortRequest {
  if (!isObject(body)) throw new PayloadError('the body must be a JSON object');
  const action = body.action;
  if (typeof action !== 'string' || !ACTIONS.includes(action as CohortAction)) {
    throw new PayloadError(
      `"action" must be one of ${ACTIONS.join(', ')}`,
      typeof action === 'string' ? action : undefined,
    );
  }
  const fail = (message: string): never => {
    throw new PayloadError(message, action);
  };
  const parameters = body.parameters;
  if (!isObject(parameters)) return fail('"parameters" must be an object');
  const cohortId =
    id(parameters.mixpanel_cohort_id) ??
    fail('"parameters.mixpanel_cohort_id" must be a non-empty string or an integer');
  const name = parameters.mixpanel_cohort_name;
  if (name !== undefined && name !== null && typeof name !== 'string')
    fail('"parameters.mixpanel_cohort_name" must be a string');
  const session = parameters.mixpanel_session_id;
  if (session !== undefined && session !== null && id(session) === undefined) {
    fail('"parameters.mixpanel_session_id" must be a non-empty string');
  }
  let page = 1;
  let totalPages = 1;
  const pageInfo = parameters.page_info;
  if (pageInfo !== undefined && pageInfo !== null) {
    if (!isObject(pageInfo)) fail('"parameters.page_info" must be an object');
    const info = pageInfo as Record<string, unknown>;
    totalPages = positiveInt(info.total_pages) ?? fail('"parameters.page_info.total_pages" must be an integer >= 1');
    page = positiveInt(info.page_count) ?? fail('"parameters.page_info.page_count" must be an integer >= 1');
    if (page > totalPages) fail(`"parameters.page_info.page_count" (${page}) exceeds total_pages (${totalPages})`);
  }
  const sessionId = id(session);
  if (action === 'members' && totalPages > 1 && sessionId === undefined) {
    fail('"parameters.mixpanel_session_id" is required when a full sync has several pages');
  }
  const list = parameters.members;
  if (!Array.isArray(list)) return fail('"parameters.members" must be an array');
  const members = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const member = list[i];
    const distinctId = isObject(member) ? id(member.mixpanel_distinct_id) : undefined;
    if (distinctId === undefined) fail(`"parameters.members[${i}].mixpanel_distinct_id" must be a non-empty string`);
    members.add(distinctId as string);
  }
  return {
    action: action as CohortAction,
    cohortId,
    cohortName: typeof name === 'string' && name.length > 0 ? name : undefined,
    sessionId,
    page,
    totalPages,
    members: [...members],
  };
}
