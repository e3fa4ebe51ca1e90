import {
  GRANT_PASSWORD,
  GRANT_PASSWORD_REALM,
  GRANT_REFRESH_TOKEN,
} from '../../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { hashClientSecret } from '../../functions/oauth/client-auth.ts';

/** The confidential test client's secret; its hash is in testConfig(). */
export const BACKOFFICE_SECRET = 'backoffice-test-secret-0123456789abcdefghijklmnop';

export const API = 'https://api.example.com/';
export const STRICT_API = 'https://strict.example.com/';

/** The example config of docs/configuration.md, plus an API that enforces permissions. */
export function testConfig(overrides: Partial<TenantConfigInput> = {}): TenantConfigInput {
  return {
    defaultRealm: 'customers',
    defaultAudience: API,
    realms: [
      {
        name: 'customers',
        passwordPolicy: { minLength: 8 },
        bruteForce: { maxConsecutiveFailures: 10, blockSeconds: 900 },
      },
      { name: 'employees' },
    ],
    apis: [
      {
        identifier: API,
        scopes: ['read:orders', 'write:orders'],
        accessTokenTtlSeconds: 900,
        allowOfflineAccess: true,
      },
      { identifier: STRICT_API, scopes: ['read:reports', 'admin:reports'], enforcePermissions: true },
    ],
    clients: [
      {
        clientId: 'mobile-app',
        name: 'Mobile app',
        grantTypes: [GRANT_PASSWORD, GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN],
        realms: ['customers'],
      },
      {
        clientId: 'backoffice',
        name: 'Back office',
        clientSecretHash: hashClientSecret(BACKOFFICE_SECRET),
        grantTypes: [GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN],
        realms: ['employees'],
        trustForwardedFor: true,
      },
      {
        clientId: 'realm-only',
        name: 'Realm only',
        grantTypes: [GRANT_PASSWORD_REALM],
        realms: ['customers', 'employees'],
      },
    ],
    ipThrottling: { maxFailuresPerDay: 100, allowlist: ['192.0.2.0/24'] },
    refreshTokens: { absoluteTtlSeconds: 2592000, idleTtlSeconds: 1296000, reuseLeewaySeconds: 0 },
    ...overrides,
  };
}
