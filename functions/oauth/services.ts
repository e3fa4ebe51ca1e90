import type { TenantConfig } from '../config/schema.ts';
import type { Logger } from '../logging.ts';
import type {
  AttemptStore,
  Clock,
  DpopReplayStore,
  Mailer,
  MfaStore,
  PasswordHasher,
  RateLimiter,
  RefreshTokenStore,
  SecretSealer,
  Signer,
  SignInStore,
  TicketStore,
  UserStore,
} from './ports.ts';

/** Everything a grant or endpoint may use, built once per cold start by a composition root. */
export interface Services {
  readonly config: TenantConfig;
  readonly users: UserStore;
  readonly attempts: AttemptStore;
  /** Secret of the keyed hash that turns usernames and IPs into counter keys. */
  readonly counterHashKey: Uint8Array;
  readonly refreshTokens: RefreshTokenStore;
  /** What a sign-in writes after the password (or second factor), in one round trip. */
  readonly signIns: SignInStore;
  readonly dpopProofs: DpopReplayStore;
  readonly hasher: PasswordHasher;
  /** MFA enrolments, guess buckets and `mfa_token`s (mfa/). */
  readonly mfa: MfaStore;
  /** Seals TOTP secrets: KMS on AWS, a key file locally. */
  readonly sealer: SecretSealer;
  readonly signer: Signer;
  /** Sends mail: SES v2 on AWS, the data dir's outbox locally. */
  readonly mailer: Mailer;
  /** Tickets of single-use mail links (accounts/tickets.ts). */
  readonly tickets: TicketStore;
  /** Hourly limits per IP or address (protection/hourly-limit.ts). */
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Fixed issuer (local mode, custom domain); otherwise derived from each request. */
  readonly issuer?: string;
}

/** What the HTTP layer learned about one request, in protocol terms. */
export interface RequestInfo {
  readonly issuer: string;
  readonly requestId: string;
  /** The connection's source IP (API Gateway `identity.sourceIp`). */
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  /** Raw `auth0-forwarded-for`; honoured only for a trusted confidential client (see protection/client-ip.ts). */
  readonly forwardedFor: string | undefined;
  /** The DPoP key the request proved it holds (RFC 9449 §4.3), checked by the HTTP layer before any grant. */
  readonly dpop?: { readonly jkt: string };
  /**
   * At the token endpoint, the recording of the proof's `jti` (RFC 9449 §11.1), in flight beside
   * the grant's first round; it rejects for a replayed proof. A grant that awaits it itself
   * (Grant.awaitsProofClaim) does so before it verifies a password or writes anything but the
   * brute-force charge; for every other grant it is awaited before the grant runs.
   */
  readonly proofClaimed?: Promise<void>;
}
