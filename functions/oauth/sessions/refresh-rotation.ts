import type { ClientConfig } from '../../config/schema.ts';
import { allLanded } from '../all-landed.ts';
import { audit } from '../audit.ts';
import { invalidGrant, invalidRequest, OAuthError } from '../errors.ts';
import type { TokenRequest } from '../grants/grant.ts';
import type { FamilyRotation, RefreshFamily, UserRecord } from '../ports.ts';
import { clientIp } from '../protection/client-ip.ts';
import { grantScopes, parseScope, resolveApi } from '../scopes.ts';
import type { RequestInfo, Services } from '../services.ts';
import { type Authorization, mintTokens, type TokenResponse } from '../tokens.ts';
import {
  familySecretHash,
  hashRefreshToken,
  newFamilySecret,
  newRefreshTokenValue,
} from './refresh-token-format.ts';
import {
  classifyRefreshToken,
  type FoundRefreshToken,
  idleExpiry,
  lookUpRefreshToken,
  offersRefreshToken,
  refreshLifetimes,
  sealSuccessor,
  sessionUserProblem,
} from './refresh-tokens.ts';

/** One public message for every refused refresh token; the reason goes to the log only. */
export const REFRESH_TOKEN_REFUSED = 'Unknown or invalid refresh token.';

const refused = (detail: string) => invalidGrant(REFRESH_TOKEN_REFUSED, detail);

/** Losing the rotation race more often than this means others keep moving the family: give up. */
const MAX_ATTEMPTS = 3;

/**
 * The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2), in
 * two rounds of store calls: the family and its user are read in one call (the token names both),
 * then the family is rotated while the tokens are signed.
 *
 * Crash safety, with single-item conditional writes only: the rotation is one conditional write
 * that moves the family's `current` from the presented token to the successor on the condition
 * that it still is the presented one. It is the single point at which the rotation happens, and the
 * successor is sent out only after it. Should the signing beside it fail, the rotation is undone
 * with the same conditional write in reverse (the successor, never sent, is still current), so the
 * presented token works again; were the undo to fail too, the app holds a rotated-out token (see
 * docs/sessions.md). N requests racing with one token all reach the rotation and exactly one passes
 * its condition; every other one re-reads the family and is judged as if it had come after: within
 * the reuse leeway it is answered with the winner's successor (never a second live token), after it
 * the family ends.
 */
export async function refreshAccess(request: TokenRequest, services: Services): Promise<TokenResponse> {
  const { client, info } = request;
  let family: RefreshFamily | undefined;
  const event = (type: 'sertft' | 'fertft', description: string) =>
    audit(services.logger, info, {
      type,
      description,
      client_id: client.clientId,
      realm: family?.realm,
      user_id: family?.user_id,
      ip: clientIp(info, client),
    });
  try {
    const response = await rotate(request, services, (seen) => {
      family = seen;
    });
    event('sertft', 'Successful exchange of refresh token for access token');
    return response;
  } catch (error) {
    if (error instanceof OAuthError && error.status < 500) event('fertft', error.description);
    throw error;
  }
}

async function rotate(
  request: TokenRequest,
  services: Services,
  seen: (family: RefreshFamily) => void,
): Promise<TokenResponse> {
  const { params, client, info } = request;
  const value = params.refresh_token as string;
  // The client's own mistakes in the request are reported whatever the token turns out to be.
  const requested = params.scope === undefined ? undefined : parseScope(params.scope);
  const named =
    params.audience === undefined && params.resource === undefined
      ? undefined
      : resolveApi(services.config, params.audience, params.resource).identifier;

  // The DPoP proof's jti is recorded beside the read: a replayed proof is refused before the rotation.
  const [found] = await allLanded([
    lookUpRefreshToken(services, value, { user: 'beside' }),
    info.proofClaimed,
  ]);
  let family = found.family;
  let minted: TokenResponse | undefined;
  for (let attempt = 1; ; attempt++) {
    const now = services.clock.now();
    const presented = classifyRefreshToken(
      { value, hash: found.hash },
      { ...found, family },
      client.clientId,
      now,
      refreshLifetimes(services.config, client.clientId),
      services.counterHashKey,
    );
    if (presented.state === 'invalid') throw refused(presented.detail);
    seen(presented.family);
    // RFC 9449 §5: without a proof of the family's key the token is refused before anything else
    // is judged, and ends nothing: a copy of an old token, replayed without the key, must not be
    // able to end the rightful holder's session by looking like reuse.
    if (presented.family.jkt !== undefined && presented.family.jkt !== info.dpop?.jkt) {
      throw refused(
        info.dpop
          ? 'DPoP proof by another key than the refresh token is bound to'
          : 'DPoP-bound refresh token without a DPoP proof',
      );
    }
    if (presented.state === 'reused') {
      await endFamilyOnReuse(services, presented.family, client, info, now);
      throw refused('rotated-out refresh token presented again: family revoked');
    }
    const userProblem = sessionUserProblem(presented.family, found.user);
    if (userProblem) throw refused(userProblem);
    const session = { family: presented.family, user: found.user as UserRecord, requested, named, now };
    // The request's own mistakes are refused before anything is written.
    const authorization = refreshedAuthorization(request, services, session);
    if (presented.state === 'grace') {
      minted ??= await mintTokens(services.signer, authorization);
      return { ...minted, refresh_token: presented.successor };
    }

    const { next, rotation } = successorOf(services, found, presented.family, value, now);
    const signing = minted ?? mintTokens(services.signer, authorization);
    const [signed, rotated] = await Promise.allSettled([
      signing,
      services.refreshTokens.rotateFamily(presented.family.family_id, found.hash, rotation),
    ]);
    if (signed.status === 'rejected') {
      // The successor was never sent: a rotation that landed is undone, and the presented token is current again.
      if (rotated.status === 'fulfilled' && rotated.value) {
        await services.refreshTokens
          .rotateFamily(presented.family.family_id, rotation.current, rotationOf(presented.family))
          .catch(() => undefined);
      }
      throw signed.reason;
    }
    minted = signed.value;
    if (rotated.status === 'rejected') throw rotated.reason;
    if (rotated.value) return { ...minted, refresh_token: next };
    family = await services.refreshTokens.findFamily(presented.family.family_id);
    // An SDK retry of our own committed write fails its condition: the rotation did happen.
    if (family?.current === rotation.current) return { ...minted, refresh_token: next };
    if (attempt >= MAX_ATTEMPTS) throw refused('the family kept moving under this request');
  }
}

/**
 * The successor's value and the rotation that makes it current. A family whose tokens were all of
 * the earlier format gets its family secret here, with its first token that names it.
 */
function successorOf(
  services: Services,
  found: FoundRefreshToken,
  family: RefreshFamily,
  value: string,
  now: number,
): { next: string; rotation: FamilyRotation } {
  const secret = found.familySecret ?? newFamilySecret();
  const next = newRefreshTokenValue(services.counterHashKey, { ...family, secret });
  return {
    next,
    rotation: {
      current: hashRefreshToken(next),
      idle_expires_at: idleExpiry(services.config, family, now),
      secret_hash: found.familySecret ? family.secret_hash : familySecretHash(secret),
      previous: found.hash,
      rotated_at: now,
      // Only a leeway needs the successor again; without one, nothing about it is stored.
      successor_seal:
        services.config.refreshTokens.reuseLeewaySeconds > 0
          ? sealSuccessor(services.counterHashKey, value, next)
          : undefined,
    },
  };
}

/** The rotation state a family holds now: what an undo puts back. */
const rotationOf = (family: RefreshFamily): FamilyRotation => ({
  current: family.current,
  idle_expires_at: family.idle_expires_at,
  secret_hash: family.secret_hash,
  previous: family.previous,
  rotated_at: family.rotated_at,
  successor_seal: family.successor_seal,
});

/**
 * What the new access token (and ID token) carry: the family's audience and scope, narrowed on
 * request only (RFC 6749 §6), and filtered again by the user's current permissions where the API
 * enforces them.
 */
function refreshedAuthorization(
  request: TokenRequest,
  services: Services,
  session: {
    family: RefreshFamily;
    user: UserRecord;
    requested: readonly string[] | undefined;
    named: string | undefined;
    now: number;
  },
): Authorization {
  const { client } = request;
  const { family, user, requested } = session;
  if (session.named !== undefined && session.named !== family.audience) {
    throw invalidRequest('The refresh token was not issued for this audience.');
  }
  const api = services.config.apis.find((candidate) => candidate.identifier === family.audience);
  if (!api || !offersRefreshToken(client, api, family.scope) || !client.realms.includes(family.realm)) {
    throw refused('the configuration no longer allows this refresh token (API, realm or offline access)');
  }
  const beyond = (requested ?? []).filter((scope) => !family.scope.includes(scope));
  if (beyond.length > 0) {
    throw new OAuthError(
      400,
      'invalid_scope',
      'The requested scope exceeds the scope originally granted.',
      `not granted: ${beyond.join(' ').slice(0, 200)}`,
    );
  }
  return {
    issuer: request.info.issuer,
    client,
    api,
    user,
    // The response carries a rotated refresh token, so `offline_access` is granted even where a
    // narrower request left it out (RFC 6749 §5.1: the scope says what was granted).
    scopes: grantScopes(
      [...new Set([...(requested ?? family.scope), 'offline_access'])],
      api,
      user.permissions[api.identifier],
      true,
    ),
    gty: 'refresh_token',
    now: Math.floor(session.now / 1000),
    authTime: Math.floor(family.created_at / 1000),
    // The refresh grant asks for no second factor again: the family was started with it.
    amr: family.amr,
    jkt: request.info.dpop?.jkt,
  };
}

/** RFC 9700 §4.14.2: a rotated-out token used again means one of two holders is an attacker. */
async function endFamilyOnReuse(
  services: Services,
  family: RefreshFamily,
  client: ClientConfig,
  info: RequestInfo,
  now: number,
) {
  await services.refreshTokens.revokeFamily(family.family_id, now);
  audit(services.logger, info, {
    type: 'ferrt',
    description: `Refresh token reuse detected: family ${family.family_id} revoked${
      family.rotated_at === undefined ? '' : `, ${now - family.rotated_at} ms after its rotation`
    }`,
    client_id: client.clientId,
    realm: family.realm,
    user_id: family.user_id,
    ip: clientIp(info, client),
  });
}
