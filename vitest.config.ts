import { defineConfig } from 'vitest/config';
import LongestFirst from './scripts/test-sequencer.js';

// Unit and integration tests: real files, real onnxruntime sessions, no mocks of what we own.
export default defineConfig({
  test: {
    include: [
      'core/**/*.test.ts',
      'electron/**/*.test.ts',
      'build/**/*.test.ts',
      'bench/**/*.test.ts',
      'scripts/**/*.test.ts',
      'renderer/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // The CLI bundle, built once for the tests that run it as a process (scripts/test-build.ts).
    globalSetup: ['scripts/test-build.ts'],
    pool: 'forks',
    // The longest files first, so a run does not end on one long file alone (scripts/test-sequencer.ts).
    sequence: { sequencer: LongestFirst },
    fileParallelism: true,
    maxWorkers: 2,
  },
});
