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
// Files that run in a fresh process each (vitest's default), the others share the two worker processes:
// - files that train or run the demo pipeline in their own process: when such a file times out, its training
//   loop goes on in the background, and in a shared process it would take the CPU from every later file and
//   keep the run from ending; a process of its own is ended with the file;
// - device.test.ts asserts that its process never probed the hardware (another file may have);
// - dialogs.test.ts replaces a module (vi.mock), which must reach no other file;
// - responsive.test.ts times its host's answers while a reader thread decodes a slow file: in a shared
//   process (with whatever earlier files left running there: singletons, worker threads) the tiles it asks
//   for arrived 2–3 ms after the import ended, twice in three full runs; alone it always passed.
const ownProcess = [
  'core/train/**/*.test.ts',
  'core/demo/**/*.test.ts',
  'core/cli/commands/{pretrain,pretrain-*,distil,adapt,curate,channels-route,hardware}.test.ts',
  'core/features/extract/device.test.ts',
  'electron/main/dialogs.test.ts',
  'core/serve/responsive.test.ts',
];
const common = {
  testTimeout: 120_000,
  hookTimeout: 300_000,
  pool: 'forks' as const,
  // process.env as each file found it, put back when it ends (files may share a process, below).
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
      // (onnxruntime, sharp, LanceDB) again, 0.7–0.9 CPU-s a file (bench/RESULTS.md).
      { test: { ...common, name: 'shared', include, exclude: ownProcess, isolate: false } },
      { test: { ...common, name: 'own-process', include: ownProcess } },
    ],
  },
});
