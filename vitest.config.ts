import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Child-process and server tests bind ports and spawn Node: keep them from starving each other on 2 cores.
    maxWorkers: 2,
    // Records that outlive a test would be replayed into the next one: tests that spool choose their folder.
    env: { OPTIMIZELY_MIXPANEL_SPOOL_DIR: 'off' },
  },
});
