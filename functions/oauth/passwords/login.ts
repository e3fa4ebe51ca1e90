import type { RealmConfig } from '../../config/schema.ts';
import { allLanded } from '../all-landed.ts';
import { type AuditEventType, audit } from '../audit.ts';
import {
  invalidGrant,
  invalidRequest,
  OAuthError,
  unauthorizedClient,
  WRONG_CREDENTIALS,
} from '../errors.ts';
import type { TokenRequest } from '../grants/grant.ts';
import { loginApi, loginScopes } from '../mfa/enroll-api.ts';
import { secondFactorNeeded } from '../mfa/policy.ts';
import { requireSecondFactor } from '../mfa/second-factor.ts';
import type { ChargedAttempt, RealmHashCostClasses, UserRecord } from '../ports.ts';
import {
  chargeAttempt,
  type LoginCounters,
  loginCounter,
  refundAttempt,
  releaseReservation,
  tooManyAttempts,
} from '../protection/brute-force.ts';
import { clientIp } from '../protection/client-ip.ts';
import { admitCostClasses } from '../protection/hash-cost-budget.ts';
import { grantScopes, parseScope } from '../scopes.ts';
import type { Services } from '../services.ts';
import { issueSignInTokens } from '../sessions/issue-tokens.ts';
import { mayHoldRefreshTokens, refreshBinding } from '../sessions/refresh-tokens.ts';
import type { TokenResponse } from '../tokens.ts';
import { normalizePassword, passwordTooLong, usernameKey, usernameProblem } from './normalize.ts';
import { upgradePasswordHashIfOutdated } from './upgrade.ts';

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
  const { params, client, info } = request;
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
  const api = loginApi(services.config, client, info.issuer, params.audience, params.resource);
  const requested = loginScopes(api, info.issuer, parseScope(params.scope));

  const ip = clientIp(info, client);
  const event = (type: AuditEventType, description: string, user?: UserRecord) =>
    audit(services.logger, info, {
      type,
      description,
      client_id: client.clientId,
      realm: realm.name,
      user_id: user?.user_id,
      ip,
    });

  const normalized = normalizePassword(password);
  const { user, counters, attempt } = await verifyCredentials(
    services,
    realm,
    username,
    normalized,
    ip,
    event,
    info.proofClaimed,
  );
  const now = services.clock.now();
  const scopes = grantScopes(
    requested,
    api,
    user.permissions[api.identifier],
    mayHoldRefreshTokens(client, api),
  );
  if (secondFactorNeeded(realm, user)) {
    const alongside = [
      refundAttempt(services, counters, attempt),
      upgradePasswordHashIfOutdated(services, user, normalized),
    ];
    const required = await requireSecondFactor(services, { client, user, api, scopes, gty, now }, alongside);
    event('mfar', 'Second factor required', user);
    throw required;
  }
  const response = await issueSignInTokens(
    services,
    {
      issuer: info.issuer,
      client,
      api,
      user,
      scopes,
      gty,
      jkt: info.dpop?.jkt,
      binding: refreshBinding(client, info),
    },
    {
      at: now,
      refund: { counter: counters.counter, attempt },
      alongside: [releaseReservation(services, counters, attempt)],
      // After the sign-in's transaction, which holds the user item while it runs: a write to that
      // item meanwhile would be turned away. Only the first login on an outdated hash waits for it.
      lastly: () => upgradePasswordHashIfOutdated(services, user, normalized),
    },
  );
  event('s', 'Successful login', user);
  return response;
}

/**
 * Brute-force limits are checked, and the attempt charged, before any hashing. Unknown user, wrong
 * password and blocked-with-wrong-password are one error with one message, and every failed login
 * spends the same verifies (spendTheRealmsVerifies), so neither body nor timing tells which accounts exist. Only
 * the right password reveals that a user is blocked. Each refusal is logged once, by its audit
 * event, which says which case it was: the errors carry no private detail to log a second time.
 * Account deletion re-checks a signed-in user's password through it, under the same limits.
 */
export async function verifyCredentials(
  services: Services,
  realm: RealmConfig,
  username: string,
  password: string,
  ip: string,
  event: (type: AuditEventType, description: string, user?: UserRecord) => void,
  /**
   * The DPoP proof's `jti` being recorded (RequestInfo.proofClaimed), awaited in the first round:
   * a replayed proof is refused before the password is verified, its attempt left charged.
   */
  proofClaimed?: Promise<void>,
): Promise<{ user: UserRecord; counters: LoginCounters; attempt: ChargedAttempt }> {
  const key = usernameKey(username);
  const now = Math.floor(services.clock.now() / 1000);
  const counters = loginCounter(services, realm, key, ip, now);
  // One round before the password: the charge is the limits' check, and the user is read beside
  // it. A read that fails leaves the attempt counted (fail closed), never checked.
  const [attempt, { user, costClasses }] = await allLanded([
    chargeAttempt(services, realm, counters, now),
    services.users.findForLogin(realm.name, usernameProblem(username) ? undefined : key),
    proofClaimed,
  ]);
  if ('limit' in attempt) {
    const { limit, retryAfterSeconds } = attempt;
    event(limit, limit === 'limit_mu' ? 'IP address throttled' : 'Blocked for this user and IP', user);
    throw tooManyAttempts(limit, retryAfterSeconds);
  }
  if (!user) {
    await spendTheRealmsVerifies(services, realm, password, costClasses);
    event('fu', 'Wrong username or password');
    throw invalidGrant(WRONG_CREDENTIALS);
  }
  if (!(await services.hasher.verify(user.password_hash, password))) {
    await spendTheRealmsVerifies(services, realm, password, costClasses, user.password_hash);
    event('fp', user.blocked ? 'Wrong password (user is blocked)' : 'Wrong username or password', user);
    throw invalidGrant(WRONG_CREDENTIALS);
  }
  if (user.blocked) {
    // The right password is not a failed guess, even for a blocked user.
    await refundAttempt(services, counters, attempt);
    event('f', 'User is blocked', user);
    throw new OAuthError(403, 'access_denied', 'user is blocked');
  }
  if (realm.emailVerification === 'required' && !user.email_verified) {
    // Only after the right password, like a block: before it, the answer would tell who exists.
    await refundAttempt(services, counters, attempt);
    event('f', 'Email not verified', user);
    throw new OAuthError(403, 'access_denied', 'Please verify your email before logging in.');
  }
  return { user, counters, attempt };
}

/**
 * Makes every failed login in a realm cost one verify of each hash cost class the realm holds,
 * whichever account it named and whether that exists: dummy verifies of every class but the one
 * of the account's own hash, already spent. Imported users keep their legacy hash until their
 * first login (bcrypt at cost 10 takes ~4× argon2id's time here), so without this a wrong password
 * would answer at a pace that tells the account exists. In a realm without imports the only class
 * is argon2id's current one: a failed login costs no verify more. The classes come with the user's
read (UserStore.findForLogin). A class found on an account
 * but not yet recorded (argon2id from before a parameter change, say) is recorded now, so that the
 * next failed logins spend it too.
 */
async function spendTheRealmsVerifies(
  services: Services,
  realm: RealmConfig,
  password: string,
  recorded: RealmHashCostClasses,
  storedHash?: string,
): Promise<void> {
  const { hasher, users } = services;
  const own = storedHash === undefined ? undefined : hasher.costClassOf(storedHash);
  const classes = new Set([hasher.currentCostClass, ...recorded.classes]);
  const dummies = async () => {
    for (const costClass of classes) if (costClass !== own) await hasher.verifyDummy(password, costClass);
  };
  // Within the budget only (a class past it stays this account's tell; `users hash-classes` names
  // such accounts), and best effort: a 503 here, where an unknown username gets 400, would tell too.
  const admitted =
    own === undefined ? [] : admitCostClasses(hasher.currentCostClass, recorded.classes, [own]).admitted;
  const record =
    admitted.length > 0
      ? users.addHashCostClasses(realm.name, admitted, recorded.version).catch(() => false)
      : undefined;
  await allLanded([record, dummies()]);
}
