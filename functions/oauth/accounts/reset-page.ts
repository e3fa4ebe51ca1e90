import type { RealmConfig } from '../../config/schema.ts';
import { realmPasswordProblem } from '../passwords/realm-policy.ts';
import type { RequestInfo, Services } from '../services.ts';
import {
  completePasswordReset,
  formToken,
  formTokenMatches,
  hashResetPassword,
  liveReset,
} from './password-reset.ts';

/**
 * What the reset page (`GET`/`POST reset-password`) shows: decided here, rendered by the HTTP
 * layer's one hosted-page template. A dead link never gets the form.
 */
export type ResetPageView =
  | {
      readonly kind: 'form';
      readonly realm: RealmConfig;
      /** The hidden fields: the ticket and the token that ties the form to it. */
      readonly hidden: { readonly ticket: string; readonly form_token: string };
      /** Why the last submission was refused, for the user to fix. */
      readonly problem?: string;
    }
  | { readonly kind: 'dead' }
  | { readonly kind: 'forged' }
  | { readonly kind: 'done' };

/** `GET reset-password?ticket=…`: the form, or the page that says the link no longer works. */
export async function openResetLink(value: string | undefined, services: Services): Promise<ResetPageView> {
  const reset = await liveReset(value, services);
  if (!reset || value === undefined) return { kind: 'dead' };
  return {
    kind: 'form',
    realm: reset.realm,
    hidden: { ticket: value, form_token: formToken(services, value) },
  };
}

export interface ResetSubmission {
  readonly ticket: string | undefined;
  readonly formToken: string | undefined;
  readonly password: string | undefined;
  readonly confirmation: string | undefined;
}

/**
 * `POST reset-password`: a form that does not carry the token of its ticket is refused before
 * anything is looked up; then the link must still work, the two passwords match and pass the
 * realm's policy, and the password is set (password-reset.ts, completePasswordReset).
 */
export async function submitNewPassword(
  submission: ResetSubmission,
  info: RequestInfo,
  services: Services,
): Promise<ResetPageView> {
  const { ticket, formToken: token, password, confirmation } = submission;
  if (ticket === undefined || token === undefined || !formTokenMatches(services, ticket, token)) {
    return { kind: 'forged' };
  }
  const reset = await liveReset(ticket, services);
  if (!reset) return { kind: 'dead' };
  const again = (problem: string): ResetPageView => ({
    kind: 'form',
    realm: reset.realm,
    hidden: { ticket, form_token: token },
    problem,
  });
  if (password === undefined) return again('Enter a new password.');
  if (password !== confirmation) return again('The two passwords are not the same.');
  const problem = await realmPasswordProblem(services.config, reset.realm, password, reset.user);
  if (problem) return again(`Choose another password: the ${problem.message}.`);
  const written = await completePasswordReset(
    reset,
    await hashResetPassword(services, password),
    info,
    services,
  );
  return written ? { kind: 'done' } : { kind: 'dead' };
}
