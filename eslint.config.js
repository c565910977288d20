import js from '@eslint/js';
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
);
