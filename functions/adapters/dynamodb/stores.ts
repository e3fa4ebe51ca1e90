import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Services } from '../../oauth/services.ts';
import type { TableNames } from '../../store-schema.ts';
import { DynamoAttemptStore } from './attempt-store.ts';
import { DynamoDpopReplayStore } from './dpop-replay-store.ts';
import { DynamoMfaStore } from './mfa-store.ts';
import { DynamoRateLimiter } from './rate-limiter.ts';
import { DynamoRefreshTokenStore } from './refresh-token-store.ts';
import { DynamoSignInStore } from './sign-in-store.ts';
import { DynamoTicketStore } from './ticket-store.ts';
import { DynamoUserStore } from './user-store.ts';

/** Every DynamoDB-backed port, for a composition root (local server, Lambda, CLI). */
export function dynamoStores(
  db: DynamoDBDocumentClient,
  names: TableNames,
): Pick<
  Services,
  'users' | 'refreshTokens' | 'signIns' | 'attempts' | 'mfa' | 'dpopProofs' | 'tickets' | 'limiter'
> {
  return {
    users: new DynamoUserStore(db, names.users),
    refreshTokens: new DynamoRefreshTokenStore(db, names['refresh-tokens'], names.users),
    signIns: new DynamoSignInStore(db, names),
    attempts: new DynamoAttemptStore(db, names.attempts),
    mfa: new DynamoMfaStore(db, names.users, names['refresh-tokens']),
    dpopProofs: new DynamoDpopReplayStore(db, names['dpop-proofs']),
    tickets: new DynamoTicketStore(db, names.tickets),
    limiter: new DynamoRateLimiter(db, names.attempts),
  };
}
