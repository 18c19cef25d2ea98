import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules', '.wrangler', '.test-build', 'dist', 'bench/results', 'migrations'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      // A switch over a verdict must handle every case explicitly (STYLE.md).
      'no-fallthrough': 'error',
      'no-case-declarations': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // In tests a `!` is an assertion: if the value is missing the test fails, which is the point.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // The dashboard runs in the browser, as plain ES modules.
    files: ['ui/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
)
