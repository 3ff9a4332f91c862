import { defineConfig } from 'vitest/config';
import LongestFirst from './scripts/test-sequencer.js';

// Unit and integration tests: real files, real onnxruntime sessions, no mocks of what we own.
const include = [
  'core/**/*.test.ts',
  'electron/**/*.test.ts',
  'build/**/*.test.ts',
  'bench/**/*.test.ts',
  'scripts/**/*.test.ts',
  'renderer/**/*.test.ts',
];
// Files that replace a module (vi.mock) run in a process of their own, so the stand-in never reaches
// another file.
const ownProcess = ['electron/main/dialogs.test.ts'];
const common = {
  testTimeout: 120_000,
  hookTimeout: 300_000,
  pool: 'forks' as const,
  // process.env as each file found it, put back when it ends (files share a process, below).
  setupFiles: ['scripts/test-env.ts'],
};

export default defineConfig({
  test: {
    // The CLI bundle, built once for the tests that run it as a process (scripts/test-build.ts).
    globalSetup: ['scripts/test-build.ts'],
    // The longest files first, so a run does not end on one long file alone (scripts/test-sequencer.ts).
    sequence: { sequencer: LongestFirst },
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      // Test files run one after another in each of the two worker processes instead of one fresh process
      // per file (isolate: false): each file no longer pays for loading Node, vitest and the native modules
      // (onnxruntime, sharp, LanceDB) again, about 0.5 CPU-s a file.
      { test: { ...common, name: 'unit', include, exclude: ownProcess, isolate: false } },
      { test: { ...common, name: 'own-process', include: ownProcess } },
    ],
  },
});
