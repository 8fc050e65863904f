/**
 * The Optimizely segment of a Mixpanel cohort, named as ODP names Mixpanel
 * audiences: `mixpanel_` + the cohort name lower-cased, each run of characters
 * other than `a-z` and `0-9` replaced by one `_` ("Power Users" →
 * `mixpanel_power_users`).
 */
export function segmentName(cohortName: string): string {
  return `mixpanel_${cohortName.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
}
