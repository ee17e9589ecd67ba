/**
 * Three projects: unit tests of pure logic; workflow tests, Herald's workflows on the project's
 * Temporal binary with activities in memory; integration tests against the real servers.
 */
const tsJest = ['ts-jest', { diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      modulePathIgnorePatterns: ['<rootDir>/dist/'],
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'workflows',
      testEnvironment: 'node',
      modulePathIgnorePatterns: ['<rootDir>/dist/'],
      testMatch: ['<rootDir>/test/workflows/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      setupFilesAfterEnv: ['<rootDir>/test/harness/setup-timeouts.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      modulePathIgnorePatterns: ['<rootDir>/dist/'],
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/harness/setup-timeouts.ts'],
      slowTestThreshold: 30,
    },
  ],
};
