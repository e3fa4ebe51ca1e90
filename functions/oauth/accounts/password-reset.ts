import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaults } from '../../config/defaults.ts';
import type { RealmConfig } from '../../config/schema.ts';
import { requestAuditor } from '../audit.ts';
import { invalidClient, invalidRequest, unauthorizedClient } from '../errors.ts';
import { normalizePassword } from '../passwords/normalize.ts';
import type { TicketRecord, UserRecord } from '../ports.ts';
import { userCounterRef } from '../protection/brute-force.ts';
import { canonicalIp } from '../protection/client-ip.ts';
import { ipSubject, takeHourly, tooManyRequests } from '../protection/hourly-limit.ts';
import type { RequestInfo, Services } from '../services.ts';
import { addressKey, claimsAddresses } from './address-claims.ts';
import { serviceNameOf } from './mail-templates.ts';
import { passwordChangedMail, resetPasswordMail } from './reset-mails.ts';
import { newTicket, ticketHash, wellFormedTicket } from './tickets.ts';

/**
 * Forgotten passwords, Auth0's way: `POST dbconnections/change_password` mails a link to a hosted
 * page (reset-page.ts), where the user sets a new password. The link's ticket is single use,
 * lives 30 minutes, is stored hashed, and is bound to the password hash the user had when it was
 * issued: the new password is written on the condition that this hash is still there, so once a
 * password is set (by this link or any other way) the link is dead, even if spending the ticket
 * then fails. A ticket is never usable twice, and the password is one single-item write.
 */

/** Auth0's answer, word for word: the same whether or not the address has an account. */
export const RESET_REQUESTED = "We've just sent you an email to reset your password.";

/**
 * How a requested address is compared with a user's: as usernames are compared (NFKC, case-folded),
 * since it is found as the username of the user who signed up with it. Undefined for no address.
 */
function requestedAddressKey(email: string): string | undefined {
  const key = addressKey(email);
  return /^[^@\s]+@[^@\s]+$/.test(key) ? key : undefined;
}

/** What the ticket remembers of the password hash: its SHA-256, so the tickets table holds no hash. */
export const passwordFingerprint = (passwordHash: string) =>
  createHash('sha256').update(passwordHash).digest('base64url');

export interface ResetRequest {
  readonly clientId: string | undefined;
  readonly email: string | undefined;
  readonly connection: string | undefined;
}

/**
 * `POST dbconnections/change_password`. The client's mistakes (no client, a realm it may not use,
 * no email) are answered at once; past them every request takes the same path whatever the
 * address: both hourly limits are taken (per IP, per address: unknown addresses count too, so a
 * 429 tells nothing), the user is looked up, and the answer leaves `resetRequestAnswerMs` after
 * the request arrived, so the mail's sending does not show in its timing. A failure after the
 * lookup (the ticket's write, the mail) is logged and answered as a success: a 503 there would
 * tell that the address has an account.
 */
export async function requestPasswordReset(
  request: ResetRequest,
  info: RequestInfo,
  services: Services,
): Promise<void> {
  const answerAt = sleep(defaults.resetRequestAnswerMs);
  const client = services.config.clients.find((candidate) => candidate.clientId === request.clientId);
  if (!client) throw invalidClient('unknown client_id', false);
  const realm = services.config.realms.find((candidate) => candidate.name === request.connection);
  if (!realm || !client.realms.includes(realm.name) || !realm.passwordReset.enabled) {
    throw unauthorizedClient(
      'Password reset is not enabled for this connection and client.',
      `connection ${JSON.stringify(request.connection)}`,
    );
  }
  if (request.email === undefined) throw invalidRequest("Missing required parameter 'email'.");
  const email = requestedAddressKey(request.email);
  if (email === undefined) throw invalidRequest('email is not an email address.');
  // Nobody but the client authenticates here: the connection's IP counts, never a forwarded one.
  const ip = canonicalIp(info.sourceIp) ?? info.sourceIp;
  const event = requestAuditor(services.logger, info, { client_id: client.clientId, realm: realm.name, ip });

  const limits = realm.passwordReset;
  const [perIp, perAddress, user] = await Promise.all([
    takeHourly(services, 'reset-ip', ipSubject(services, ip), limits.maxRequestsPerIpPerHour),
    takeHourly(services, 'reset-address', email, limits.maxMailsPerAddressPerHour),
    findByAddress(services, realm, email),
  ]);
  const refusedFor = perIp ?? perAddress;
  if (refusedFor !== undefined) {
    event('fcpr', perIp !== undefined ? 'Too many reset requests from this IP' : 'Too many reset mails');
    throw tooManyRequests('Too many password reset requests; try again later.', refusedFor);
  }
  // Its own address must match too: a username that looks like an address is not one.
  const owner =
    user && !user.blocked && user.email !== undefined && requestedAddressKey(user.email) === email;
  const sent = owner ? mailResetLink(user, info, services) : Promise.resolve<string>('no such user');
  const [outcome] = await Promise.all([sent.catch(() => 'the mail could not be sent'), answerAt]);
  if (outcome === 'sent') event('scpr', 'Password reset mail sent', user);
  else event('fcpr', `Password reset mail not sent: ${outcome}`, owner ? user : undefined);
}

/**
 * The user of this address: where users sign in with their address, the user whose username it
 * is; where they pick a username, the user who claimed the address (address-claims.ts).
 */
async function findByAddress(
  services: Services,
  realm: RealmConfig,
  email: string,
): Promise<UserRecord | undefined> {
  if (!claimsAddresses(realm)) return services.users.findByUsername(realm.name, email);
  const holder = await services.users.emailHolder(realm.name, email);
  return holder === undefined ? undefined : services.users.findById(realm.name, holder);
}

async function mailResetLink(user: UserRecord, info: RequestInfo, services: Services): Promise<'sent'> {
  const now = services.clock.now();
  const { value, record } = newTicket(
    'reset-password',
    user,
    defaults.resetTicketTtlSeconds * 1000,
    now,
    passwordFingerprint(user.password_hash),
  );
  await services.tickets.put(record);
  const link = `${info.issuer}reset-password?ticket=${value}`;
  await services.mailer.send(resetPasswordMail(user.email as string, serviceNameOf(services.config), link));
  return 'sent';
}

/** A reset ticket with the user it is still good for: the user, address and password it was issued for. */
export interface LiveReset {
  readonly ticket: TicketRecord;
  readonly user: UserRecord;
  readonly realm: RealmConfig;
}

/**
 * The ticket of a reset link, if the link still works: well formed, found (unspent, unexpired),
 * for a password reset, and its user still the same user, with the same address and the same
 * password hash as when it was issued. Undefined otherwise, without saying which.
 */
export async function liveReset(
  value: string | undefined,
  services: Services,
): Promise<LiveReset | undefined> {
  if (!wellFormedTicket(value)) return undefined;
  const ticket = await services.tickets.find(ticketHash(value), services.clock.now());
  if (ticket?.purpose !== 'reset-password' || ticket.bound_to === undefined) return undefined;
  const realm = services.config.realms.find((candidate) => candidate.name === ticket.realm);
  if (!realm?.passwordReset.enabled) return undefined;
  const user = await services.users.findByUsername(ticket.realm, ticket.username_key);
  if (!user || user.user_id !== ticket.user_id || user.email !== ticket.email || user.blocked)
    return undefined;
  const bound = Buffer.from(ticket.bound_to);
  const current = Buffer.from(passwordFingerprint(user.password_hash));
  if (bound.length !== current.length || !timingSafeEqual(bound, current)) return undefined;
  return { ticket, user, realm };
}

/**
 * The hidden field that ties the form to its ticket: a keyed hash of the ticket's hash, which only
 * the server can make. A form posted from anywhere else lacks it (a browser sends `Origin: null`
 * under `no-referrer`, so the origin cannot be checked instead).
 */
export const formToken = (services: Pick<Services, 'counterHashKey'>, value: string) =>
  createHmac('sha256', services.counterHashKey)
    .update(`reset-password-form\u0000${ticketHash(value)}`)
    .digest('base64url');

export function formTokenMatches(services: Pick<Services, 'counterHashKey'>, value: string, token: string) {
  const expected = Buffer.from(formToken(services, value));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Sets the new password (already checked against the policy and hashed) for a live reset: one
 * conditional write on the user (the password, the email verified, the sessions ended), the
 * linearisation point. False when the link died meanwhile. After it, what follows cannot undo it
 * and is done alongside, each failure logged: the ticket spent (already dead by the new hash), the
 * user's brute-force blocks lifted, the "your password was changed" mail sent.
 */
export async function completePasswordReset(
  reset: LiveReset,
  newHash: string,
  info: RequestInfo,
  services: Services,
): Promise<boolean> {
  const { ticket, user, realm } = reset;
  const audited = requestAuditor(services.logger, info, {
    realm: realm.name,
    ip: canonicalIp(info.sourceIp) ?? info.sourceIp,
  });
  const event = (type: 'scp' | 'fcp', description: string) => audited(type, description, user);
  const written = await services.users.resetPassword(
    user,
    { passwordHash: user.password_hash, email: ticket.email },
    newHash,
    new Date(services.clock.now()).toISOString(),
  );
  if (!written) {
    event('fcp', 'Password reset link no longer valid');
    return false;
  }
  const followUps: [string, Promise<unknown>][] = [
    ['spend the ticket', services.tickets.spend(ticket.token_hash)],
    [
      'lift the brute-force blocks',
      services.attempts.resetUser(userCounterRef(services.counterHashKey, user.realm, user.username_key)),
    ],
    [
      'send the password-changed mail',
      services.mailer.send(passwordChangedMail(ticket.email, serviceNameOf(services.config))),
    ],
  ];
  const results = await Promise.allSettled(followUps.map(([, promise]) => promise));
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      services.logger.log('warn', 'password reset follow-up failed', {
        request_id: info.requestId,
        step: followUps[i]?.[0],
        error: (result.reason as Error)?.name,
      });
    }
  });
  event('scp', 'Password changed by reset link');
  return true;
}

/** The password as the policy and the hasher take it (NIST SP 800-63B §5.1.1.2: NFKC). */
export const hashResetPassword = (services: Pick<Services, 'hasher'>, password: string) =>
  services.hasher.hash(normalizePassword(password));
