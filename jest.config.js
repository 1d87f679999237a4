/** Unit specs (*.spec.ts) and end-to-end suites (*.e2e.ts) in one run. */
module.exports = {
  testEnvironment: '<rootDir>/test/support/node-environment.js',
  roots: ['<rootDir>/test', '<rootDir>/src'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // On the embedded database, one migrated database that every suite's starts as a copy of.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Each e2e suite opens its own database; two cores, two workers.
  maxWorkers: 2,
  testTimeout: 60000,
};
