import { createHash, randomBytes } from 'node:crypto';
import { defaults } from '../../config/defaults.ts';
import type { ApiConfig, ClientConfig } from '../../config/schema.ts';
import { OAuthError } from '../errors.ts';
import type { MfaChallenge, UserRecord } from '../ports.ts';
import type { Services } from '../services.ts';

/** 256 bits in base64url without padding: exactly 43 characters. */
const WELL_FORMED = /^[A-Za-z0-9_-]{43}$/;

/** Only this hash is stored: a copy of the table gives no usable `mfa_token`. */
const hashMfaToken = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

/**
 * Issues the `mfa_token` of a login whose password was right: a random value, opaque to clients,
 * stored only as its hash for 10 minutes, bound to the user (and the user's session epoch), the
 * client, and the audience and scope the login asked for. It is no JWT, so nothing that verifies
 * access tokens can mistake it for one.
 */
export async function issueMfaToken(
  services: Pick<Services, 'mfa'>,
  login: {
    client: ClientConfig;
    user: UserRecord;
    api: ApiConfig;
    scopes: readonly string[];
    gty: MfaChallenge['gty'];
    now: number;
  },
): Promise<string> {
  const value = randomBytes(32).toString('base64url');
  await services.mfa.putChallenge({
    token_hash: hashMfaToken(value),
    client_id: login.client.clientId,
    realm: login.user.realm,
    username_key: login.user.username_key,
    user_id: login.user.user_id,
    session_epoch: login.user.session_epoch ?? 0,
    audience: login.api.identifier,
    scope: [...login.scopes],
    gty: login.gty,
    created_at: login.now,
    expires_at: login.now + defaults.mfa.tokenTtlSeconds * 1000,
  });
  return value;
}

/** Auth0's answers for an `mfa_token` that is malformed, unknown or spent, or expired. */
const invalidMfaToken = (detail: string) =>
  new OAuthError(403, 'invalid_grant', 'Invalid mfa_token.', detail);
const expiredMfaToken = () =>
  new OAuthError(403, 'expired_token', 'mfa_token is expired.', 'mfa_token past its 10 minutes');

/**
 * The live challenge behind a presented `mfa_token`. With `clientId` (the MFA grants, `mfa/challenge`,
 * or a client naming itself), the token must have been issued to that client: another client's
 * token is refused like an unknown one.
 */
export async function presentedMfaToken(
  services: Pick<Services, 'mfa' | 'clock'>,
  value: string | undefined,
  clientId?: string,
): Promise<MfaChallenge & { readonly value: string }> {
  if (value === undefined || !WELL_FORMED.test(value)) throw invalidMfaToken('malformed mfa_token');
  const challenge = await services.mfa.findChallenge(hashMfaToken(value));
  if (!challenge) throw invalidMfaToken('unknown or spent mfa_token');
  if (clientId !== undefined && challenge.client_id !== clientId) {
    throw invalidMfaToken(`mfa_token of client ${challenge.client_id}`);
  }
  if (services.clock.now() >= challenge.expires_at) throw expiredMfaToken();
  return { ...challenge, value };
}

/** A successful grant spends the token; false when a parallel request spent it first. */
export const spendMfaToken = (services: Pick<Services, 'mfa'>, value: string, writer: string) =>
  services.mfa.spendChallenge(hashMfaToken(value), writer);
