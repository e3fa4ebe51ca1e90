import type { RealmConfig } from '../config/schema.ts';
import { invalidGrant, invalidRequest, OAuthError, unauthorizedClient, WRONG_CREDENTIALS } from './errors.ts';
import type { TokenRequest } from './grants/grant.ts';
import { normalizePassword, passwordTooLong, usernameKey, usernameProblem } from './normalize.ts';
import { upgradePasswordHashIfOutdated } from './password-upgrade.ts';
import type { UserRecord } from './ports.ts';
import { grantScopes, parseScope, resolveApi } from './scopes.ts';
import type { Services } from './services.ts';
import { mintTokens, type TokenResponse } from './tokens.ts';

/**
 * The Resource Owner Password Credentials flow (RFC 6749 §4.3) against one realm; the `password`
 * and `password-realm` grants differ only in how they pick the realm.
 */
export async function passwordLogin(
  request: TokenRequest,
  services: Services,
  realmName: string,
  gty: 'password' | 'password-realm',
): Promise<TokenResponse> {
  const { params, client } = request;
  const realm = services.config.realms.find((candidate) => candidate.name === realmName);
  if (!realm || !client.realms.includes(realm.name)) {
    throw unauthorizedClient(
      'The realm is not enabled for this client.',
      `realm ${JSON.stringify(realmName)}`,
    );
  }
  const username = params.username as string;
  const password = params.password as string;
  if (passwordTooLong(password)) throw invalidRequest('password is too long.');
  const api = resolveApi(services.config, params.audience, params.resource);
  const requested = parseScope(params.scope);

  const user = await verifyCredentials(services, realm, username, normalizePassword(password));
  const now = services.clock.now();
  const scopes = grantScopes(requested, api, user.permissions[api.identifier]);
  const response = await mintTokens(services.signer, {
    issuer: request.info.issuer,
    client,
    api,
    user,
    scopes,
    gty,
    now: Math.floor(now / 1000),
  });
  await services.users.recordLogin(user, new Date(now).toISOString());
  return response;
}

/**
 * Unknown user, wrong password and blocked-with-wrong-password are one error with one message,
 * and the unknown-user path spends a dummy argon2id verify, so neither body nor timing tells
 * which accounts exist. Only the right password reveals that a user is blocked.
 */
async function verifyCredentials(
  services: Services,
  realm: RealmConfig,
  username: string,
  password: string,
): Promise<UserRecord> {
  const user = usernameProblem(username)
    ? undefined
    : await services.users.findByUsername(realm.name, usernameKey(username));
  if (!user) {
    await services.hasher.verifyDummy(password);
    throw invalidGrant(WRONG_CREDENTIALS, 'unknown user');
  }
  if (!(await services.hasher.verify(user.password_hash, password))) {
    throw invalidGrant(WRONG_CREDENTIALS, user.blocked ? 'wrong password (user blocked)' : 'wrong password');
  }
  if (user.blocked) throw new OAuthError(403, 'access_denied', 'user is blocked', `user ${user.user_id}`);
  await upgradePasswordHashIfOutdated(services, user, password);
  return user;
}
