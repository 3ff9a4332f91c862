// Layer rules are enforced here, not by review (DEVELOPERS.md, STYLE.md "Practices to absorb" 2).
//   core/common  pure: imports nothing from Node, the DOM, electron, svelte or other layers
//   core/        Node: never electron, svelte, renderer/ or electron/
//   core/graph/runtime.ts  the only file that imports onnxruntime-node
//   renderer/    browser: only core/common (the API contract) and browser packages; never Node or electron
//   electron/    the only layer that imports electron
//   core/X       imports only the core folders below X in core's order (scripts/core-order.mjs, core/README.md)
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { coreOrderPlugin } from './scripts/core-order.mjs';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'worker_threads',
  'http',
  'https',
  'net',
  'url',
  'crypto',
  'stream',
  'util',
  'zlib',
  'events',
  'buffer',
];
const electronPkgs = ['electron', 'electron/*'];
const sveltePkgs = ['svelte', 'svelte/*'];
const ort = ['onnxruntime-node', 'onnxruntime-common', 'onnxruntime-web'];

/** @param {{ group: string[], message: string }[]} patterns */
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'tmp/', 'bench/.results/', '.devgpu/', 'renderer/.svelte-kit/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.ts'],
    ignores: ['renderer/**'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['renderer/**/*.svelte', 'renderer/**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['core/common/**'],
    rules: restrict([
      { group: [...nodeBuiltins], message: 'core/common is pure: no Node modules.' },
      { group: [...electronPkgs, ...sveltePkgs, ...ort], message: 'core/common is pure.' },
      { group: ['**/renderer/**', '**/electron/**', '../*', '!../common/*'], message: 'core/common imports only itself.' },
    ]),
  },
  {
    files: ['core/**'],
    ignores: ['core/common/**', 'core/graph/runtime.ts'],
    rules: restrict([
      { group: [...electronPkgs, ...sveltePkgs], message: 'core never imports electron or svelte.' },
      { group: ['**/renderer/**', '**/electron/**'], message: 'core never imports the renderer or electron layers.' },
      { group: [...ort], message: 'Only core/graph/runtime.ts imports onnxruntime.' },
    ]),
  },
  {
    files: ['core/**/*.ts'],
    ignores: ['core/**/*.test.ts'],
    plugins: { dinoscope: coreOrderPlugin },
    rules: { 'dinoscope/core-order': 'error' },
  },
  {
    // sharp costs a quarter second of CPU to load: core loads it on first use, through core/io/sharp.ts, so a
    // process that never touches pixels (`dinoscope --help`, bad input) never pays it. Tests import it freely.
    files: ['core/**/*.ts'],
    ignores: ['core/**/*.test.ts', 'core/io/sharp.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'sharp', allowTypeImports: true, message: 'Import { sharp } from core/io/sharp.ts (loaded on first use).' }] },
      ],
    },
  },
  {
    files: ['core/graph/runtime.ts'],
    rules: restrict([{ group: [...electronPkgs, ...sveltePkgs, '**/renderer/**', '**/electron/**'], message: 'core layering.' }]),
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: restrict([
      {
        group: [...nodeBuiltins, ...electronPkgs, ...ort, 'sharp', 'ws'],
        message: 'The renderer runs in a browser: no Node, electron or runtime packages.',
      },
      {
        group: ['**/core/*', '!**/core/common', '**/core/*/**', '!**/core/common/**', '**/electron/**'],
        message: 'The renderer imports only the API contract in core/common.',
      },
    ]),
  },
  {
    files: ['e2e/**', 'bench/**', 'scripts/**', 'build/**', 'bin/**', '*.js', '*.ts', '*.mjs', '*.cjs'],
    rules: restrict([{ group: [...ort], message: 'Only core/graph/runtime.ts imports onnxruntime.' }]),
  },
);
