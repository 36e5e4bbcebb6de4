// ESLint flat config. Fast syntactic rules for the whole repo, plus the purity rules that keep
// packages/raft deterministic: no Node built-ins, no wall clock, no randomness, no timers,
// no process, no async.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs',
  'fs/promises', 'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream',
  'timers', 'timers/promises', 'tls', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'packages/proto/src/generated/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly',
        clearImmediate: 'readonly', queueMicrotask: 'readonly', URL: 'readonly', TextEncoder: 'readonly',
        TextDecoder: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly',
        SharedArrayBuffer: 'readonly', Atomics: 'readonly', performance: 'readonly', globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The Raft core is pure and deterministic (DEVELOPERS.md, STYLE.md §1).
    files: ['packages/raft/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['node:*'], message: 'packages/raft must not import Node built-ins.' }],
        paths: nodeBuiltins.map((name) => ({ name, message: 'packages/raft must not import Node built-ins.' })),
      }],
      'no-restricted-globals': ['error',
        { name: 'Date', message: 'No wall clock in the Raft core: time is tick().' },
        { name: 'setTimeout', message: 'No timers in the Raft core.' },
        { name: 'setInterval', message: 'No timers in the Raft core.' },
        { name: 'setImmediate', message: 'No timers in the Raft core.' },
        { name: 'queueMicrotask', message: 'No scheduling in the Raft core.' },
        { name: 'process', message: 'No process access in the Raft core.' },
        { name: 'performance', message: 'No clock in the Raft core.' },
        { name: 'require', message: 'No dynamic loading in the Raft core.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Randomness is an injected seeded Rng.' },
        { object: 'globalThis', property: 'process', message: 'No process access in the Raft core.' },
        { object: 'globalThis', property: 'Date', message: 'No wall clock in the Raft core.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: 'FunctionDeclaration[async=true]', message: 'No async in the Raft core.' },
        { selector: 'FunctionExpression[async=true]', message: 'No async in the Raft core.' },
        { selector: 'ArrowFunctionExpression[async=true]', message: 'No async in the Raft core.' },
        { selector: 'AwaitExpression', message: 'No await in the Raft core.' },
        { selector: 'ImportExpression', message: 'No dynamic import in the Raft core.' },
      ],
    },
  },
);
