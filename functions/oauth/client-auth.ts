import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { defaults } from '../config/defaults.ts';
import type { ClientConfig, TenantConfig } from '../config/schema.ts';
import { invalidClient, invalidRequest } from './errors.ts';

/** Client credentials as the request carried them (RFC 6749 §2.3.1). */
export interface PresentedCredentials {
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

const PREFIX = 'sha256:';

/**
 * Client secrets are 256 random bits, so a single SHA-256 is enough to store them: there is
 * nothing to brute-force that a slow hash would protect.
 */
export function hashClientSecret(secret: string): string {
  return PREFIX + createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function newClientSecret(): { secret: string; clientSecretHash: string } {
  const secret = randomBytes(defaults.clientSecretBytes).toString('base64url');
  return { secret, clientSecretHash: hashClientSecret(secret) };
}

function secretMatches(presented: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash.slice(PREFIX.length), 'base64url');
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  // Equal lengths by construction (both SHA-256), so the comparison is constant-time.
  return timingSafeEqual(expected, actual);
}

/**
 * Authenticates the client: a confidential one (with `clientSecretHash`) by its secret, a public
 * one (a mobile app) by `client_id` alone. Unknown clients and bad secrets are 401 `invalid_client`.
 */
export function authenticateClient(config: TenantConfig, presented: PresentedCredentials): ClientConfig {
  const usedBasic = presented.method === 'client_secret_basic';
  if (presented.clientId === undefined) throw invalidRequest('client_id is required.');
  const client = config.clients.find((candidate) => candidate.clientId === presented.clientId);
  if (!client) throw invalidClient('unknown client_id', usedBasic);
  if (client.clientSecretHash === undefined) {
    if (presented.clientSecret !== undefined)
      throw invalidClient('a public client sent a client secret', usedBasic);
    return client;
  }
  if (presented.clientSecret === undefined)
    throw invalidClient('confidential client sent no secret', usedBasic);
  if (!secretMatches(presented.clientSecret, client.clientSecretHash)) {
    throw invalidClient('wrong client secret', usedBasic);
  }
  return client;
}
