/** Gauge: members of each cohort in a process's replica. */
export const METRIC_COHORT_MEMBERS = 'mixpanel.cohort.members';
/** Counter: webhook requests by action and HTTP status. */
export const METRIC_COHORT_REQUESTS = 'mixpanel.cohort.webhook.requests';
/** The Mixpanel cohort id (`mixpanel_cohort_id`). */
export const ATTR_MIXPANEL_COHORT_ID = 'mixpanel.cohort.id';
/** The webhook action: `members`, `add_members`, `remove_members`. */
export const ATTR_MIXPANEL_COHORT_ACTION = 'mixpanel.cohort.action';
/** The Optimizely segment a cohort becomes (`mixpanel_power_users`). */
export const ATTR_OPTIMIZELY_SEGMENT = 'optimizely.segment';
/** On `feature_flag.evaluation`: the Mixpanel segments the decided rule's audiences matched. */
export const ATTR_OPTIMIZELY_SEGMENTS = 'optimizely.segments';
