import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// Tests and the helpers only tests use: a test helper in production code would ship and run there.
const TEST_FILES = ['**/*.test.ts', '**/testing.ts', '**/testing/**'];

const TEST_HELPERS = {
  // '@inventory/store/testing', './testing/harness', '../testing', ...
  regex: '(^|/)testing(/|$)',
  message: 'Test helpers are for tests: production code may not import them.',
};
const FRAMEWORKS = {
  group: ['knex', 'mysql2', 'better-sqlite3', '@grpc/*', 'pino', 'node:*'],
  message: 'The domain is pure: no database, gRPC, logging or Node APIs.',
};
const GRPC = {
  group: ['@grpc/*', 'grpc-health-check', '@inventory/grpc-server'],
  message: 'Only the gRPC plumbing and the apps speak gRPC; persistence, jobs and logging do not.',
};

/**
 * `no-restricted-imports` keeps the patterns of the last config that names it, so each area states its whole
 * set: its own patterns everywhere, plus the test helpers ban outside tests.
 */
function restrictImports(files, patterns) {
  return [
    { files, rules: { 'no-restricted-imports': ['error', { patterns }] } },
    {
      files,
      ignores: TEST_FILES,
      rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, TEST_HELPERS] }] },
    },
  ];
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.nx/**', 'libs/contracts/src/gen/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // The domain is pure: it imports no other project (and no framework).
            { sourceTag: 'scope:domain', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:store', onlyDependOnLibsWithTags: ['scope:domain', 'scope:contracts'] },
            // Process plumbing without database or gRPC (logging, the system clock): any process may use it.
            { sourceTag: 'scope:runtime', onlyDependOnLibsWithTags: [] },
            // Lease-based scheduled work that any process may run.
            { sourceTag: 'scope:jobs', onlyDependOnLibsWithTags: ['scope:domain', 'scope:runtime', 'scope:store'] },
            {
              sourceTag: 'scope:grpc-server',
              onlyDependOnLibsWithTags: ['scope:contracts', 'scope:domain', 'scope:runtime'],
            },
            { sourceTag: 'scope:bench', onlyDependOnLibsWithTags: ['scope:contracts'] },
            {
              sourceTag: 'scope:app',
              onlyDependOnLibsWithTags: [
                'scope:contracts',
                'scope:domain',
                'scope:store',
                'scope:grpc-server',
                'scope:runtime',
                'scope:jobs',
              ],
            },
          ],
        },
      ],
    },
  },
  // Test helpers stay out of production code.
  {
    files: ['**/*.ts'],
    ignores: TEST_FILES,
    rules: { 'no-restricted-imports': ['error', { patterns: [TEST_HELPERS] }] },
  },
  // Frameworks stay out of the domain.
  ...restrictImports(['libs/domain/**/*.ts'], [FRAMEWORKS]),
  // gRPC stays in the gRPC plumbing and the apps.
  ...restrictImports(['libs/store/**/*.ts', 'libs/runtime/**/*.ts', 'libs/jobs/**/*.ts'], [GRPC]),
  { files: ['**/*.cjs', '**/*.mjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // Prettier formats; lint rules that would fight it are off.
  prettier,
);
