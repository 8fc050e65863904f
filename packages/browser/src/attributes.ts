import { type AttributePicker, attributePicker } from '@optimizely-mixpanel/core';
import { warnOnce } from './instrumentation.js';

/**
 * The `attributes` option: the SDK user attributes (`createUserContext(id,
 * attributes)`) copied onto the exposure event, by name. Attributes can be
 * personal data, so none is copied without it. Names that are invalid, reserved
 * (`distinct_id`, `time`, `$insert_id`, the exposure's own properties) or beyond
 * Mixpanel's 255 properties are ignored with a warning; strings are cut to 255
 * UTF-8 bytes, and values other than strings, finite numbers and booleans are left out.
 *
 * @example
 * ```ts
 * import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
 * import { allowAttributes } from '@optimizely-mixpanel/browser/attributes';
 * enableOptimizelyMixpanel({ mixpanel, attributes: allowAttributes(['plan', 'country']) });
 * ```
 */
export function allowAttributes(names: readonly string[]): AttributePicker | undefined {
  return attributePicker(names, warnOnce);
}
