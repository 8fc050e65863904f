import {
  type AttributePicker,
  type EventFormat,
  FormatRecordBuilder,
  type PipelineConfig,
} from '@optimizely-mixpanel/core';
import type { EventFormatChoice } from './types.js';

/**
 * The `eventFormat` option: the exposure event as `Experiment Viewed` (the
 * default without it), Mixpanel's `$experiment_started` (`Experiment name`,
 * `Variant name`, read by its Experiments report), or `both`, with the same
 * `$insert_id` and time as the server's. An invalid format is warned about
 * once and the default applies.
 *
 * @example
 * ```ts
 * import { enableOptimizelyMixpanel } from '@optimizely-mixpanel/browser';
 * import { eventFormat } from '@optimizely-mixpanel/browser/event-format';
 * enableOptimizelyMixpanel({ mixpanel, eventFormat: eventFormat('both') });
 * ```
 */
export function eventFormat(format: EventFormat): EventFormatChoice {
  return class extends FormatRecordBuilder {
    constructor(config: PipelineConfig, pickAttributes: AttributePicker | undefined) {
      super({ ...config, eventFormat: format }, pickAttributes);
    }
  };
}
