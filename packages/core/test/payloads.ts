/** A DECISION notification of SDK 6 for `checkout_redesign` (an A/B rule), with `decisionInfo` overrides. */
export function flag(overrides: Record<string, unknown> = {}, ...user: [userId?: unknown, attributes?: unknown]) {
  // An explicit `undefined` user id must reach the pipeline, so no default parameter here.
  const userId = user.length > 0 ? user[0] : 'user-123';
  const attributes = user[1] ?? {};
  return {
    type: 'flag',
    userId,
    attributes,
    decisionInfo: {
      flagKey: 'checkout_redesign',
      enabled: true,
      variationKey: 'variation_a',
      ruleKey: 'checkout_redesign_ab',
      variables: {},
      reasons: [],
      decisionEventDispatched: true,
      experimentId: '40000000001',
      variationId: '70000000002',
      ...overrides,
    },
  };
}
