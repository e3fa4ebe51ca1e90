import { audit, requestAuditor } from '../audit.ts';
import { invalidRequest, OAuthError } from '../errors.ts';
import { verifyCredentials } from '../passwords/login.ts';
import { normalizePassword, passwordTooLong } from '../passwords/normalize.ts';
import { UserNotFoundError } from '../ports.ts';
import { refundAttempt } from '../protection/brute-force.ts';
import { clientIp } from '../protection/client-ip.ts';
import type { RequestInfo, Services } from '../services.ts';
import type { UserAccess } from '../sessions/user-access.ts';

/**
 * A user deletes their own account from inside the app (what Apple's App Store Review Guideline
 * 5.1.1(v) asks of apps that let users sign up): the access token says who, the client must be
 * one with `allowAccountDeletion`, and the current password is entered again, under the login's
 * brute-force limits, so a token left on an unlocked phone is not enough. The user item goes, and
 * with it the user's authenticators; every refresh token family dies with the user (a refresh
 * re-reads the user, and a new user of the same name has another id and session epoch).
 */
export async function deleteOwnAccount(
  access: UserAccess,
  params: Readonly<Record<string, string | undefined>>,
  info: RequestInfo,
  services: Services,
): Promise<void> {
  const { user, client } = access;
  if (!client?.allowAccountDeletion) {
    throw new OAuthError(
      403,
      'unauthorized_client',
      'The client is not allowed to delete accounts.',
      `client ${JSON.stringify(access.claims.client_id)}`,
    );
  }
  const password = params.password;
  if (password === undefined) throw invalidRequest("Missing required parameter 'password'.");
  if (passwordTooLong(password)) throw invalidRequest('password is too long.');
  const realm = services.config.realms.find((candidate) => candidate.name === user.realm);
  if (!realm) throw new UserNotFoundError();
  // The caller authenticated with a token, not as the client: a forwarded IP is never trusted here.
  const ip = clientIp({ ...info, forwardedFor: undefined }, client);
  const event = requestAuditor(services.logger, info, { client_id: client.clientId, realm: realm.name, ip });
  const { counters, attempt } = await verifyCredentials(
    services,
    realm,
    user.username,
    normalizePassword(password),
    ip,
    event,
  );
  await refundAttempt(services, counters, attempt);
  try {
    await services.users.delete(realm.name, user.username_key, user.user_id);
  } catch (error) {
    // Gone already: deleted by a request that raced this one, or by this one's write whose answer was lost.
    if (!(error instanceof UserNotFoundError)) throw error;
  }
  // Kept after the account is gone: the user id only, no IP, user agent or name.
  audit(services.logger, info, {
    type: 'sdu',
    description: 'User deleted their account',
    client_id: client.clientId,
    realm: realm.name,
    user_id: user.user_id,
  });
}
