import js from '@eslint/js';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

// `eslint .` lints every .js/.mjs/.ts/.tsx of the repository: src/, test/, scripts/, bench/ and
// the explorer's web/ (test/unit/lint.test.ts checks that none falls outside).
export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'demo/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The catalogue, the atlas and most stages are async: a promise nobody awaits is a
    // write that may not have happened, or an error nobody sees. These rules need types.
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: fileURLToPath(new URL('.', import.meta.url)) },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The API contract is imported by the web bundle: types and constants only, no imports at all.
    files: ['src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['*'], message: 'src/api/ is the web app’s contract: it imports nothing.' }] },
      ],
    },
  },
  {
    // The web app reaches the library only through the API contract (`@filmatlas/api`), never Node code.
    files: ['web/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../*', 'node:*'],
              message:
                'import the API contract as @filmatlas/api; the web bundle must not pull in Node code.',
            },
          ],
        },
      ],
    },
  },
);
