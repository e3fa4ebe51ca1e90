/**
 * Every security default in one place, each with the reason it has this value.
 * The tenant config overrides some of them; the rest are house rules.
 */
export const defaults = {
  /** The private key stays in KMS unless the operator chooses otherwise (docs/operating.md, signing modes). */
  signingMode: 'kms' as 'kms' | 'kms-wrapped',
  /** OWASP Password Storage Cheat Sheet, argon2id first option: m=19 MiB, t=2, p=1. */
  argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
  /** NIST SP 800-63B §3.1.1.2: at least 8 characters for memorised secrets chosen by the user. */
  passwordMinLength: 8,
  /** Bound on argon2 input so a huge password cannot cost CPU before it is refused. */
  passwordMaxBytes: 1024,
  /**
   * Imported hashes are verified once, at the user's next login: parameters past these bounds
   * would let one import row make a login cost seconds of CPU or gigabytes of memory.
   */
  importedHashLimits: {
    /** 256 MiB: 4× RFC 9106 §4's memory-constrained option (64 MiB); its 2 GiB option would need 2 GiB per concurrent login. */
    argon2: { maxMemoryKiB: 262_144, maxTimeCost: 16, maxParallelism: 16 },
    /** Cost 15 is ~2 s in pure-JS bcrypt; real deployments use 10-13. */
    bcrypt: { maxCost: 15 },
    /** 2 M iterations: over three times OWASP's 600 000 for PBKDF2-HMAC-SHA256. */
    pbkdf2: { maxIterations: 2_000_000 },
    /** scrypt memory is 128·N·r bytes; 256 MiB is 16 times the scrypt paper's interactive setting (N=2^14, r=8). */
    scrypt: { maxMemoryBytes: 256 * 1024 * 1024, maxParallelization: 16 },
    /** Derived keys shorter than 16 bytes (128 bits) match wrong passwords too easily; longer than 1 KiB is not a password hash. */
    minKeyBytes: 16,
    maxKeyBytes: 1024,
  },
  /**
   * Every failed login in a realm verifies one hash of each kind the realm holds (see
   * password-login.ts), so an import may not make that cost more than 1 s on the importing
   * machine: a tenth of the token function's timeout, and bcrypt at cost 13 with room to spare.
   */
  failedLoginVerifyBudgetMs: 1000,
  /** Usernames are identifiers, not prose: bounded so keys stay small. */
  usernameMaxLength: 128,
  /** Auth0's default access token lifetime for an API is 24 h; we prefer short-lived tokens (RFC 9700 §4.14). */
  accessTokenTtlSeconds: 900,
  /** ID tokens prove a login to the client only; an hour matches common OIDC providers. */
  idTokenTtlSeconds: 3600,
  /** RFC 6749 leaves body size open; 16 KiB holds any honest token request many times over (docs/reference.md). */
  maxBodyBytes: 16 * 1024,
  /** Client secrets are 256 random bits: guessing is out of reach, so a fast hash is enough to store them. */
  clientSecretBytes: 32,
  /** Auth0: 10 consecutive failures per user and IP, blocked until reset; we lift it after 15 min. */
  bruteForce: { maxConsecutiveFailures: 10, blockSeconds: 900 },
  /** Auth0's suspicious-IP throttling allows 100 failed logins per IP a day by default. */
  ipThrottling: { maxFailuresPerDay: 100 },
  /** RFC 6749 §10.10 / RFC 9700 §4.14: refresh tokens are 256 random bits, far beyond guessing. */
  refreshTokenBytes: 32,
  /** Auth0's default refresh token lifetimes: 30 days absolute, 15 days idle; no reuse leeway. */
  refreshTokens: { absoluteTtlSeconds: 2_592_000, idleTtlSeconds: 1_296_000, reuseLeewaySeconds: 0 },
  mfa: {
    /** Auth0's `mfa_token` lives 10 minutes: long enough to find the app, short enough to be useless later. */
    tokenTtlSeconds: 600,
    /** RFC 4226 §4 R6 recommends 160-bit shared secrets (SHA-1's block of output). */
    secretBytes: 20,
    /** Auth0's limit on wrong codes per user: a bucket of 10 guesses, refilled by one every 6 minutes. */
    guesses: { capacity: 10, refillSeconds: 360 },
  },
  /**
   * RFC 9449 §11.1: a proof's `iat` is accepted up to a minute either side of the server's clock,
   * enough for a slow mobile network and a little clock drift; nonces (§8) are opt-in because they
   * cost every client one extra round trip per nonce window.
   */
  dpop: { requireNonce: false, proofMaxAgeSeconds: 60 },
  /** Shown on hosted pages and in mails where the config names no service (`name`). */
  serviceName: 'passgate',
  signup: {
    /** Enough for a family or an office behind one NAT, few for a script making accounts. */
    maxPerIpPerHour: 20,
  },
  /** Verification links live 24 h: long enough for a mail that arrives late, short enough to die unused. */
  verificationTicketTtlSeconds: 86_400,
  passwordReset: {
    /** Three mails an hour to one address: enough for a mail that went to spam, too few to flood a mailbox. */
    maxMailsPerAddressPerHour: 3,
    /** As many as sign-ups per IP: a family or an office behind one NAT, few for a script. */
    maxRequestsPerIpPerHour: 20,
  },
  /** Reset links live 30 minutes (OWASP Forgot Password Cheat Sheet: short-lived, single use). */
  resetTicketTtlSeconds: 1800,
  /**
   * A reset request is answered this long after it arrived, whether or not the address has an
   * account: longer than a ticket write and a mail send normally take, so the answer's timing
   * does not tell which addresses have accounts.
   */
  resetRequestAnswerMs: 400,
} as const;
