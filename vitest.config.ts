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
    // The AWS SDK warns once per process that Node 20 loses its support in 2027: tests run on the
    // Node the machine has (the Lambda functions run 24); the variable is the SDK's own switch.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
