import { defineConfig } from 'vitest/config';

// Browser end-to-end tests against the serve host (and Electron where its binary exists). One at a time:
// each starts its own host and browser.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
