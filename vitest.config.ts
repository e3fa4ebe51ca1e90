import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Lambda bundles, built once for the infra and bundle tests.
    globalSetup: ['test/global-setup.ts'],
    // argon2id at production parameters and real HTTP servers: generous but bounded.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
