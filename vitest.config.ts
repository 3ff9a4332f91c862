import { defineConfig } from 'vitest/config';

// Unit and integration tests: real files, real onnxruntime sessions, no mocks of what we own.
export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'electron/**/*.test.ts', 'build/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts', 'renderer/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
