import { z } from 'zod';
import { defaults } from './defaults.ts';
import { GRANT_PASSWORD, grantTypes } from './grant-types.ts';

/** Realm names go into keys and `sub` (`<realm>|<id>`), so they are plain identifiers. */
const realmName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 lowercase letters, digits, "_" or "-"');

const positiveInt = z.number().int().positive();

const realmSchema = z.strictObject({
  name: realmName,
  passwordPolicy: z
    .strictObject({
      minLength: positiveInt.max(defaults.passwordMaxBytes).default(defaults.passwordMinLength),
      // A file of SHA-1 hashes of passwords to refuse besides the built-in list, sorted, one per
      // line (Have I Been Pwned's Pwned Passwords download ordered by hash has this form).
      blocklist: z.string().min(1).optional(),
    })
    .default({ minLength: defaults.passwordMinLength }),
  bruteForce: z
    .strictObject({
      maxConsecutiveFailures: positiveInt.default(defaults.bruteForce.maxConsecutiveFailures),
      // At least a minute: longer than any request can run (Lambda timeout 10 s), so a run never
      // lapses under an attempt still in flight (adapters/dynamodb/attempt-store.ts relies on it).
      blockSeconds: positiveInt.min(60).default(defaults.bruteForce.blockSeconds),
    })
    .default({ ...defaults.bruteForce }),
  /**
   * `off`: passwords only. `enrolled`: users with a confirmed authenticator must use it.
   * `required`: every user must, enrolling at the next login (docs/mfa.md).
   */
  mfa: z
    .strictObject({ policy: z.enum(['off', 'enrolled', 'required']).default('off') })
    .default({ policy: 'off' }),
  /** Self-service sign-up, `POST dbconnections/signup` (docs/accounts.md). */
  signup: z
    .strictObject({
      enabled: z.boolean().default(false),
      // Users then sign in with a username of their own rather than their email address.
      requireUsername: z.boolean().default(false),
      maxPerIpPerHour: positiveInt.default(defaults.signup.maxPerIpPerHour),
    })
    .default({ enabled: false, requireUsername: false, maxPerIpPerHour: defaults.signup.maxPerIpPerHour }),
  /**
   * `off`: no mail. `optional`: sign-up sends a verification link, `email_verified` says whether it
   * was opened. `required`: as optional, and a login with the right password but an unverified
   * address is refused (docs/accounts.md).
   */
  emailVerification: z.enum(['off', 'optional', 'required']).default('off'),
  /**
   * Forgotten passwords: `POST dbconnections/change_password` mails a link to a hosted page where
   * the user sets a new password (docs/accounts.md). Off by default: it needs `email`.
   */
  passwordReset: z
    .strictObject({
      enabled: z.boolean().default(false),
      // A mailbox is not flooded: reset mails to one address in one hour, whoever asks.
      maxMailsPerAddressPerHour: positiveInt.default(defaults.passwordReset.maxMailsPerAddressPerHour),
      maxRequestsPerIpPerHour: positiveInt.default(defaults.passwordReset.maxRequestsPerIpPerHour),
    })
    .default({ enabled: false, ...defaults.passwordReset }),
});

const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope-token (RFC 6749 §3.3)');

const apiSchema = z.strictObject({
  identifier: z.url(),
  scopes: z.array(scopeToken).default([]),
  accessTokenTtlSeconds: positiveInt.max(86_400).default(defaults.accessTokenTtlSeconds),
  allowOfflineAccess: z.boolean().default(false),
  enforcePermissions: z.boolean().default(false),
});

/** Hosts where plain `http:` is the developer's own machine (RFC 6761 §6.3, RFC 8252 §8.3). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An entry of `allowedOrigins` is compared to the browser's `Origin` header byte for byte (RFC 6454
 * §6.1 serialisation): scheme, host and port only, lowercase, no default port, no path, no wildcard.
 */
function originProblem(value: string): string | undefined {
  if (value.includes('*')) return 'must be one exact origin: wildcards are not allowed';
  if (!URL.canParse(value)) return 'must be an origin like "https://app.example.com"';
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) origin';
  if (url.origin !== value) {
    return `must be exactly scheme://host[:port] with no path or trailing "/" (did you mean "${url.origin}"?)`;
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.endsWith('.localhost')) {
    return 'must use https: (plain http: only for localhost, 127.0.0.1 and [::1])';
  }
  return undefined;
}

const origin = z.string().superRefine((value, context) => {
  const message = originProblem(value);
  if (message) context.addIssue({ code: 'custom', message });
});

const clientSchema = z.strictObject({
  clientId: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be 1-128 unreserved characters'),
  name: z.string().min(1),
  clientSecretHash: z
    .string()
    .regex(/^sha256:[A-Za-z0-9_-]{43}$/, 'must be the value printed by `passgate clients secret`')
    .optional(),
  grantTypes: z.array(z.enum(grantTypes)).min(1),
  realms: z.array(realmName).min(1),
  trustForwardedFor: z.boolean().default(false),
  allowedOrigins: z.array(origin).default([]),
  refreshTokens: z
    .strictObject({
      absoluteTtlSeconds: positiveInt.optional(),
      idleTtlSeconds: positiveInt.optional(),
    })
    .optional(),
  // Whose tokens the client may introspect: its own (the default), or every client's (a gateway).
  introspection: z.enum(['own', 'all']).default('own'),
  /** RFC 9449: refuse this client's token requests that carry no DPoP proof. */
  requireDpop: z.boolean().default(false),
  /** Users signed in through this client may delete their own account (`POST account/delete`). */
  allowAccountDeletion: z.boolean().default(false),
});

function isIpOrCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const isV4 = z.ipv4().safeParse(address).success;
  const isV6 = z.ipv6().safeParse(address).success;
  if (!isV4 && !isV6) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (isV4 ? 32 : 128);
}

const cidr = z
  .string()
  .refine(isIpOrCidr, 'must be an IP address or CIDR block')
  .refine(
    // AWS WAF's IP sets, which exempt the allowlist from the web ACL's rate rule, refuse /0.
    (value) => !isIpOrCidr(value) || !/\/0+$/.test(value),
    'must not be a /0 block (AWS WAF refuses it); to exempt every IP, raise maxFailuresPerDay instead',
  );

export const tenantConfigSchema = z.strictObject({
  defaultRealm: realmName,
  defaultAudience: z.string(),
  realms: z.array(realmSchema).min(1),
  apis: z.array(apiSchema).min(1),
  clients: z.array(clientSchema).min(1),
  ipThrottling: z
    .strictObject({
      maxFailuresPerDay: positiveInt.default(defaults.ipThrottling.maxFailuresPerDay),
      allowlist: z.array(cidr).default([]),
    })
    .default({ ...defaults.ipThrottling, allowlist: [] }),
  refreshTokens: z
    .strictObject({
      absoluteTtlSeconds: positiveInt.default(defaults.refreshTokens.absoluteTtlSeconds),
      idleTtlSeconds: positiveInt.default(defaults.refreshTokens.idleTtlSeconds),
      reuseLeewaySeconds: z.number().int().min(0).max(300).default(defaults.refreshTokens.reuseLeewaySeconds),
    })
    .default({ ...defaults.refreshTokens }),
  /**
   * How tokens are signed in AWS (local mode always signs with its local key): `kms`, an asymmetric
   * KMS key whose private half never leaves KMS, one Sign call per token; `kms-wrapped`, an RSA key
   * pair generated by KMS under a symmetric KMS key, its private half decrypted once per cold start
   * and used in the function's memory (docs/operating.md compares the two).
   */
  signing: z
    .strictObject({ mode: z.enum(['kms', 'kms-wrapped']).default(defaults.signingMode) })
    .default({ mode: defaults.signingMode }),
  dpop: z
    .strictObject({
      requireNonce: z.boolean().default(defaults.dpop.requireNonce),
      // Up to 5 minutes: the replay store keeps each proof that long, and a proof is a bearer of
      // the request it was made for until then.
      proofMaxAgeSeconds: positiveInt.max(300).default(defaults.dpop.proofMaxAgeSeconds),
    })
    .default({ ...defaults.dpop }),
  /**
   * The sender of passgate's mails (verification links, sign-up notices). Required when a realm
   * sends mail; on AWS `from` must be an address or domain verified in SES (docs/deploying.md).
   */
  email: z
    .strictObject({
      from: z.email(),
      replyTo: z.email().optional(),
    })
    .optional(),
  /**
   * The service's name as users know it: on hosted pages and in mails, and refused inside
   * passwords (passwords/policy.ts).
   * @default "passgate"
   */
  name: z.string().min(1).max(100).optional(),
  /** Where editors find this file's JSON Schema (`./passgate.schema.json`); passgate ignores it. */
  $schema: z.string().optional(),
});

export type TenantConfigInput = z.input<typeof tenantConfigSchema>;
export type TenantConfig = z.output<typeof tenantConfigSchema>;
export type RealmConfig = TenantConfig['realms'][number];
export type ApiConfig = TenantConfig['apis'][number];
export type ClientConfig = TenantConfig['clients'][number];

type Path = (string | number)[];
export interface ConfigProblem {
  readonly path: Path;
  readonly message: string;
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const field = (value: unknown, name: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;

/**
 * The checks across fields (unknown references, duplicates). They read the raw document and skip
 * whatever is malformed, so they report alongside the schema's own problems rather than after them.
 */
export function crossReferenceProblems(document: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (path: Path, message: string) => problems.push({ path, message });
  const realmNames = new Set<unknown>();
  list(field(document, 'realms')).forEach((realm, i) => {
    const name = field(realm, 'name');
    if (realmNames.has(name)) problem(['realms', i, 'name'], `duplicate realm "${String(name)}"`);
    realmNames.add(name);
  });
  const apiIds = new Set<unknown>();
  list(field(document, 'apis')).forEach((api, i) => {
    const identifier = field(api, 'identifier');
    if (apiIds.has(identifier)) problem(['apis', i, 'identifier'], `duplicate API "${String(identifier)}"`);
    apiIds.add(identifier);
    const scopes = list(field(api, 'scopes'));
    if (new Set(scopes).size !== scopes.length) problem(['apis', i, 'scopes'], 'duplicate scope');
  });
  const defaultRealm = field(document, 'defaultRealm');
  if (typeof defaultRealm === 'string' && !realmNames.has(defaultRealm)) {
    problem(['defaultRealm'], `unknown realm "${defaultRealm}"`);
  }
  const defaultAudience = field(document, 'defaultAudience');
  if (typeof defaultAudience === 'string' && !apiIds.has(defaultAudience)) {
    problem(['defaultAudience'], `"${defaultAudience}" is not the identifier of an API in apis`);
  }
  const clientIds = new Set<unknown>();
  list(field(document, 'clients')).forEach((client, i) => {
    const clientId = field(client, 'clientId');
    if (clientIds.has(clientId))
      problem(['clients', i, 'clientId'], `duplicate client "${String(clientId)}"`);
    clientIds.add(clientId);
    list(field(client, 'realms')).forEach((realm, j) => {
      if (typeof realm === 'string' && !realmNames.has(realm))
        problem(['clients', i, 'realms', j], `unknown realm "${realm}"`);
    });
    // The `password` grant signs into defaultRealm (docs/reference.md), which the client must be allowed.
    const realms = list(field(client, 'realms'));
    if (
      list(field(client, 'grantTypes')).includes(GRANT_PASSWORD) &&
      typeof defaultRealm === 'string' &&
      realmNames.has(defaultRealm) &&
      !realms.includes(defaultRealm)
    ) {
      problem(
        ['clients', i, 'realms'],
        `the password grant signs into defaultRealm "${defaultRealm}", which these realms leave out`,
      );
    }
    if (field(client, 'trustForwardedFor') === true && field(client, 'clientSecretHash') === undefined) {
      problem(
        ['clients', i, 'trustForwardedFor'],
        'only a confidential client (with clientSecretHash) may be trusted',
      );
    }
  });
  list(field(document, 'realms')).forEach((realm, i) => {
    const reason = field(document, 'email') === undefined ? whyRealmSendsMail(realm) : undefined;
    if (reason) {
      problem(
        ['email', 'from'],
        `required: realm "${String(field(realm, 'name'))}" (realms[${i}]) sends mail (${reason})`,
      );
    }
  });
  return problems;
}

/** Why a realm, as written in the config file, sends mail (so `email.from` is needed), if it does. */
function whyRealmSendsMail(realm: unknown): string | undefined {
  const verification = field(realm, 'emailVerification');
  if (verification === 'optional' || verification === 'required')
    return `emailVerification "${verification}"`;
  if (field(field(realm, 'passwordReset'), 'enabled') === true) return 'passwordReset.enabled';
  return undefined;
}
