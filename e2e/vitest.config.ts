import { defineConfig } from 'vitest/config';
import LongestFirst from '../scripts/test-sequencer.js';

// Browser end-to-end tests against the serve host (and Electron where its binary exists). Each file starts
// its own host (a free port, its own home folder) and browser, so two files run at once; the CLI and
// renderer are built once before them (support/global-setup.ts).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    globalSetup: ['e2e/support/global-setup.ts'],
    fileParallelism: true,
    maxWorkers: 2,
    pool: 'forks',
    // The longest files first, so a run does not end on one long file alone (scripts/test-sequencer.ts).
    sequence: { sequencer: LongestFirst },
  },
});
