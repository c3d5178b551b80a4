/** Unit tests (pure logic, no I/O) and end-to-end tests (real Temporal server, real lab nodes). */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
  verbose: true,
};
