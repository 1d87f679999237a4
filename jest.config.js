/** Unit specs (*.spec.ts) and end-to-end suites (*.e2e.ts) in one run. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/src'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // Each e2e suite opens its own database; two cores, two workers.
  maxWorkers: 2,
  testTimeout: 60000,
};
