import { createHash, randomBytes } from 'node:crypto';
import type { TicketPurpose, TicketRecord, UserRecord } from '../ports.ts';

/** 256 random bits (RFC 9700 §4.14's advice for refresh tokens): far beyond guessing. */
const TICKET_BYTES = 32;

/** How a ticket is found: the SHA-256 of its value (a random value needs no slow hash). */
export const ticketHash = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * A new single-use ticket for a link in a mail: `value` goes into the link and nowhere else,
 * `record` (keyed by its hash) into the TicketStore. Bound to the user and their current address.
 */
export function newTicket(
  purpose: TicketPurpose,
  user: Pick<UserRecord, 'realm' | 'user_id' | 'username_key' | 'email'>,
  ttlMs: number,
  now: number,
  boundTo?: string,
): { value: string; record: TicketRecord } {
  if (user.email === undefined) throw new Error('a ticket is for a user with an email address');
  const value = randomBytes(TICKET_BYTES).toString('base64url');
  return {
    value,
    record: {
      token_hash: ticketHash(value),
      purpose,
      realm: user.realm,
      user_id: user.user_id,
      username_key: user.username_key,
      email: user.email,
      created_at: now,
      expires_at: now + ttlMs,
      ...(boundTo === undefined ? {} : { bound_to: boundTo }),
    },
  };
}

/** A ticket's value as it comes in a link: 32 bytes of base64url, nothing else is looked up. */
export const wellFormedTicket = (value: string | undefined): value is string =>
  value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value);
