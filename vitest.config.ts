import { defineConfig } from 'vitest/config';

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
    fileParallelism: true,
    maxWorkers: 2,
  },
});
