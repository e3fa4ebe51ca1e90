import { defaults } from '../../config/defaults.ts';
import type { RealmConfig } from '../../config/schema.ts';
import type { UserRecord } from '../ports.ts';
import type { Services } from '../services.ts';
import { serviceNameOf, verificationMail } from './mail-templates.ts';
import { newTicket, ticketHash, wellFormedTicket } from './tickets.ts';

/** The hosted page a verification link opens, relative to the issuer. */
export const VERIFY_EMAIL_PATH = 'verify-email';

export type VerificationServices = Pick<Services, 'config' | 'users' | 'tickets' | 'mailer' | 'clock'>;

/** Whether the realm verifies addresses at all (and so sends mail). */
export const verifiesEmail = (realm: RealmConfig) => realm.emailVerification !== 'off';

/**
 * Stores a new 24-hour ticket for the user's current address and mails its link. The ticket is
 * written first: a mail that then fails leaves a ticket nobody holds, which expires unused, and the
 * user asks again (a sign-up with the same address, or `users resend-verification`).
 */
export async function sendVerificationMail(
  services: VerificationServices,
  user: UserRecord,
  issuer: string,
): Promise<void> {
  const { value, record } = newTicket(
    'verify-email',
    user,
    defaults.verificationTicketTtlSeconds * 1000,
    services.clock.now(),
  );
  await services.tickets.put(record);
  const link = `${issuer}${VERIFY_EMAIL_PATH}?${new URLSearchParams({ ticket: value })}`;
  await services.mailer.send(verificationMail(record.email, serviceNameOf(services.config), link));
}

export type VerificationOutcome = 'verified' | 'invalid';

/**
 * Opens a verification link: the ticket must be live, of this purpose, and its user must still be
 * the one it was issued to with the same address. The user is marked verified before the ticket is
 * spent: marking is idempotent, so a spend that fails (503) leaves a ticket that, opened again,
 * verifies nothing new; the other order could burn the ticket with the address still unverified.
 */
export async function verifyEmailTicket(
  services: Pick<Services, 'users' | 'tickets' | 'clock'>,
  value: string | undefined,
): Promise<VerificationOutcome> {
  if (!wellFormedTicket(value)) return 'invalid';
  const now = services.clock.now();
  const ticket = await services.tickets.find(ticketHash(value), now);
  if (ticket?.purpose !== 'verify-email') return 'invalid';
  const marked = await services.users.setEmailVerified(ticket, ticket.email, new Date(now).toISOString());
  if (!marked) return 'invalid';
  // Lost to a parallel opening of the same link: that one spent it, the address is verified either way.
  await services.tickets.spend(ticket.token_hash);
  return 'verified';
}
