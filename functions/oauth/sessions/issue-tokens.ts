import { randomUUID } from 'node:crypto';
import { allLanded } from '../all-landed.ts';
import type { SignIn } from '../ports.ts';
import type { Services } from '../services.ts';
import { type Authorization, mintTokens, type TokenResponse } from '../tokens.ts';
import { newSession, offersRefreshToken } from './refresh-tokens.ts';

/** Who signed in, and how: the tokens' claims (minted now) and the refresh tokens' DPoP binding. */
export interface SignedInUser extends Omit<Authorization, 'now' | 'authTime'> {
  /** The DPoP key the refresh tokens are bound to (`refreshBinding`). */
  readonly binding: string | undefined;
}

/**
 * The end of every sign-in that answers with tokens (the password grants and the MFA grants), in
 * one round: signing overlaps the sign-in's writes (SignInStore: the login count, the session and
 * the password grant's `refund`, all or nothing) and `alongside` (the IP's day given back, a hash
 * upgrade). Then `lastly` runs (the MFA grant spends its mfa_token there). Should any step fail,
 * the sign-in is undone: its session goes and its count is taken back, since the refresh token
 * only leaves in the answer and a login that answered an error is no login, so nothing is left
 * half-written (the run still ends: the password was right). The error waits for the writes
 * beside it, so none lands after the answer.
 */
export async function issueSignInTokens(
  services: Services,
  signedIn: SignedInUser,
  {
    at: now = services.clock.now(),
    refund,
    alongside = [],
    lastly,
  }: {
    /** When the sign-in happened (epoch ms); now, unless the grant already read the clock. */
    at?: number;
    refund?: SignIn['refund'];
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
  const signIn: SignIn = {
    user,
    at: new Date(now).toISOString(),
    loginId: randomUUID(),
    ...(session ? { session: { family: session.family } } : {}),
    ...(refund ? { refund } : {}),
  };
  try {
    const [response] = await allLanded([
      mintTokens(services.signer, { ...signedIn, now: Math.floor(now / 1000) }),
      services.signIns.record(signIn),
      ...alongside,
    ]);
    await lastly?.();
    if (session) response.refresh_token = session.value;
    return response;
  } catch (error) {
    await services.signIns.undo(signIn).catch(() => undefined);
    throw error;
  }
}
