import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{api,common,crypto,web,migrations,seeds,tests}/**/*.test.ts'],
    // Database and browser suites share one PostgreSQL and two cores; files run in
    // parallel but never so wide that timings fall apart.
    maxWorkers: 2,
    globalSetup: ['tests/build-setup.ts', 'tests/global-setup.ts'],
    reporters: ['default', './tests/plain-summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
