// Layering, as VS Code enforces common/node/browser/electron-main: imports only point one way.
//   src-main/shared   types + plain data; imports nothing
//   src-main/core     pure TypeScript + tfjs + Node; never electron, app, server, preload or renderer
//   src-main/cli, server, worker   Node; may use core + shared, never electron
//   src-main/services   Node; the contract's implementation: core + shared (+ worker protocol), never electron
//   src-main/app      Electron main; may use everything in src-main
//   src-main/preload  Electron preload; only electron + shared types
//   src-renderer      browser; only shared types from src-main
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import svelteConfig from './src-renderer/svelte.config.js';

const electron = { name: 'electron', message: 'Only src-main/app and src-main/preload may import electron.' };
const pattern = (group, message) => ({ group, message });

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'native/build/**', 'runs/**'] },
  ...tseslint.configs.recommended,
  // Components are linted like the rest: TypeScript in <script lang="ts">, Svelte's own rules, and the
  // renderer's layering rule below (it matches src-renderer/**, .svelte files included).
  ...svelte.configs.recommended,
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig } },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src-main/shared/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [pattern(['../../*', '**/core/**', '**/app/**', '**/services/**', '@tensorflow/*', 'electron', 'node:*'], 'shared/ is types, plain data and pure functions: it imports nothing outside src-main/shared.')] }],
    },
  },
  {
    files: ['src-main/core/**', 'src-main/cli/**', 'src-main/server/**', 'src-main/worker/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [pattern(['**/app/**', '**/preload/**', '**/src-renderer/**'], 'Node layers never import the Electron app, preload or renderer.')],
        },
      ],
    },
  },
  {
    // services: the contract's in-process implementation, shared by Electron main and the browser-mode server.
    files: ['src-main/services/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [pattern(['**/app/**', '**/preload/**', '**/cli/**', '**/server/**', '**/src-renderer/**'], 'services may use core, shared and the worker protocol, never electron or a transport.')],
        },
      ],
    },
  },
  {
    files: ['src-main/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [pattern(['**/app/**', '**/preload/**', '**/cli/**', '**/server/**', '**/src-renderer/**'], 'core is the bottom layer: it imports only shared/ and libraries.')],
        },
      ],
    },
  },
  {
    files: ['src-main/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [pattern(['**/core/**', '**/app/**', '**/server/**', '**/cli/**', '@tensorflow/*'], 'The preload only bridges: electron + shared types.')] }],
    },
  },
  {
    files: ['src-renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [pattern(['**/src-main/core/**', '**/src-main/services/**', '**/src-main/app/**', '**/src-main/preload/**', '**/src-main/server/**', '**/src-main/cli/**', '**/src-main/worker/**', '@tensorflow/*', 'node:*'], 'The renderer only sees src-main/shared (types) and talks through window.workbench.')],
        },
      ],
    },
  },
  {
    // Unit tests of the renderer's pure logic run in Node (node:test), never in the page.
    files: ['src-renderer/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [pattern(['**/src-main/core/**', '**/src-main/services/**', '**/src-main/app/**', '**/src-main/preload/**', '**/src-main/server/**', '**/src-main/cli/**', '**/src-main/worker/**', '@tensorflow/*'], 'Renderer tests test renderer code: only src-main/shared besides node:test.')],
        },
      ],
    },
  },
);
