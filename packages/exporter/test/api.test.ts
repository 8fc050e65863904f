import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('public API', () => {
  it('exports the exporter, the client transport, hosts, the rate-limited log, semconv and drop reasons, nothing internal', () => {
    expect(Object.keys(api).sort()).toEqual([
      'DROP_REASONS',
      'MIXPANEL_HOSTS',
      'MixpanelClientTransport',
      'MixpanelExporter',
      'RateLimitedLog',
      'isLoopbackHost',
      'resolveApiHost',
      'semconv',
    ]);
  });
});
