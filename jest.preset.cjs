// Shared jest settings: swc compiles TypeScript (no type-check; the typecheck target does that) and the
// workspace path aliases resolve to the libs' sources.
const path = require('node:path');

const root = __dirname;

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  moduleNameMapper: {
    '^@inventory/contracts$': path.join(root, 'libs/contracts/src/index.ts'),
    '^@inventory/domain$': path.join(root, 'libs/domain/src/index.ts'),
    '^@inventory/grpc-server$': path.join(root, 'libs/grpc-server/src/index.ts'),
    '^@inventory/store$': path.join(root, 'libs/store/src/index.ts'),
    '^@inventory/store/testing$': path.join(root, 'libs/store/src/testing.ts'),
  },
  testMatch: ['**/*.test.ts'],
};
