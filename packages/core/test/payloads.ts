import { readFileSync } from 'node:fs';

/** The DECISION notification of SDK 6 for `checkout_redesign` (an A/B rule) that tests and benchmarks share. */
const FLAG_DECISION = JSON.parse(readFileSync(new URL('./fixtures/flag-decision.json', import.meta.url), 'utf8'));

/** A DECISION notification of SDK 6 for `checkout_redesign` (an A/B rule), with `decisionInfo` overrides. */
export function flag(overrides: Record<string, unknown> = {}, ...user: [userId?: unknown, attributes?: unknown]) {
  // An explicit `undefined` user id must reach the pipeline, so no default parameter here.
  const userId = user.length > 0 ? user[0] : FLAG_DECISION.userId;
  const attributes = user[1] ?? {};
  return { ...FLAG_DECISION, userId, attributes, decisionInfo: { ...FLAG_DECISION.decisionInfo, ...overrides } };
}
