import { randomUUID } from 'node:crypto';
import { allLanded } from '../all-landed.ts';
import type { Services } from '../services.ts';
import { type Authorization, mintTokens, type TokenResponse } from '../tokens.ts';
import { newSession, offersRefreshToken, removeSession, storeSession } from './refresh-tokens.ts';

/** Who signed in, and how: the tokens' claims (minted now) and the refresh tokens' DPoP binding. */
export interface SignedInUser extends Omit<Authorization, 'now' | 'authTime'> {
  /** The DPoP key the refresh tokens are bound to (`refreshBinding`). */
  readonly binding: string | undefined;
}

/**
 * The end of every sign-in that answers with tokens (the password grants and the MFA grants).
 * Independent round trips overlap: signing, the session's writes and `alongside` (the brute-force
 * refund, a hash upgrade). Then the login is counted, so a login that answered 503 is not, and
 * `lastly` runs (the MFA grant spends its mfa_token there). Should any step fail, the session is
 * removed again: its refresh token only leaves in the answer, so nothing is left half-written. The
 * 503 waits for the writes beside it, so none lands after the answer.
 */
export async function issueSignInTokens(
  services: Services,
  signedIn: SignedInUser,
  {
    at: now = services.clock.now(),
    alongside = [],
    lastly,
  }: {
    /** When the sign-in happened (epoch ms); now, unless the grant already read the clock. */
    at?: number;
    alongside?: readonly Promise<unknown>[];
    lastly?: () => Promise<void>;
  } = {},
): Promise<TokenResponse> {
  const { client, api, user, scopes } = signedIn;
  const session = offersRefreshToken(client, api, scopes)
    ? newSession(services, {
        client,
        api,
        user,
        scopes,
        now,
        amr: signedIn.amr,
        jkt: signedIn.binding,
      })
    : undefined;
  try {
    const [response] = await allLanded([
      mintTokens(services.signer, { ...signedIn, now: Math.floor(now / 1000) }),
      session && storeSession(services.refreshTokens, session),
      ...alongside,
    ]);
    await services.users.recordLogin(user, new Date(now).toISOString(), randomUUID());
    await lastly?.();
    if (session) response.refresh_token = session.value;
    return response;
  } catch (error) {
    if (session) await removeSession(services.refreshTokens, session).catch(() => undefined);
    throw error;
  }
}
