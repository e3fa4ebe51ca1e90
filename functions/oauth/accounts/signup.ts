import type { ClientConfig, RealmConfig } from '../../config/schema.ts';
import { type AuditEventType, audit } from '../audit.ts';
import { invalidClient } from '../errors.ts';
import { normalizePassword, usernameKey, usernameProblem } from '../passwords/normalize.ts';
import { realmPasswordProblem } from '../passwords/realm-policy.ts';
import { type NewUser, UserExistsError, type UserRecord } from '../ports.ts';
import { canonicalIp } from '../protection/client-ip.ts';
import { ipSubject, takeHourly, tooManyRequests } from '../protection/hourly-limit.ts';
import type { RequestInfo, Services } from '../services.ts';
import { AddressClaimRace, addressKey, claimAddress, claimsAddresses } from './address-claims.ts';
import { sendVerificationMail, verifiesEmail } from './email-verification.ts';
import { serviceNameOf, signupNoticeMail } from './mail-templates.ts';
import {
  badConnection,
  invalidBody,
  invalidPassword,
  invalidSignup,
  SignupError,
  signupDisabled,
} from './signup-errors.ts';
import { firstSessionEpoch, newUserId } from './user-ids.ts';

/** Auth0's profile fields of a sign-up, with Auth0's length limits. */
const PROFILE_LIMITS = {
  name: 300,
  given_name: 150,
  family_name: 150,
  nickname: 300,
  picture: 2000,
} as const;
type ProfileField = keyof typeof PROFILE_LIMITS;
/** Auth0: `user_metadata` holds at most 10 properties, names up to 100 characters, string values up to 500. */
const METADATA = { maxProperties: 10, maxName: 100, maxValue: 500 } as const;

/**
 * The HTML Standard's "valid email address" (what a browser's `<input type="email">` accepts),
 * with RFC 5321 §4.5.3.1's length limits: 64 octets before the "@", 254 in all.
 */
const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;
const isEmailAddress = (email: string) =>
  EMAIL.test(email) && email.length <= 254 && email.lastIndexOf('@') <= 64;

/** What Auth0 answers a sign-up with (`_id`, `email`, `email_verified`, the profile as given). */
export interface SignupResponse {
  readonly _id: string;
  readonly email: string;
  readonly email_verified: boolean;
  readonly username?: string;
  readonly name?: string;
  readonly given_name?: string;
  readonly family_name?: string;
  readonly nickname?: string;
  readonly picture?: string;
  readonly user_metadata?: Readonly<Record<string, string>>;
}

type Params = Readonly<Record<string, string | undefined>>;

/**
 * An address as passgate keeps it: NFKC, the domain in lower case (RFC 5321 §2.4: domains are
 * case-insensitive; the local part belongs to the receiving server, so it is kept as given).
 */
export function normalizeEmail(email: string): string {
  const normalized = email.normalize('NFKC');
  const at = normalized.lastIndexOf('@');
  return `${normalized.slice(0, at)}@${normalized.slice(at + 1).toLowerCase()}`;
}

function parseMetadata(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > METADATA.maxProperties) {
    throw invalidBody(`user_metadata must have at most ${METADATA.maxProperties} properties`);
  }
  for (const [name, member] of entries) {
    if (name.length > METADATA.maxName) {
      throw invalidBody(`user_metadata property names must be at most ${METADATA.maxName} characters`);
    }
    if (typeof member !== 'string' || member.length > METADATA.maxValue) {
      throw invalidBody(`user_metadata.${name} must be a string of at most ${METADATA.maxValue} characters`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function profileOf(params: Params): Partial<Record<ProfileField, string>> {
  const profile: Partial<Record<ProfileField, string>> = {};
  for (const [field, limit] of Object.entries(PROFILE_LIMITS) as [ProfileField, number][]) {
    const value = params[field];
    if (value === undefined) continue;
    if ([...value].length > limit) throw invalidBody(`${field} must be at most ${limit} characters`);
    profile[field] = value.normalize('NFKC');
  }
  const picture = profile.picture;
  if (picture !== undefined && !(URL.canParse(picture) && /^https?:$/.test(new URL(picture).protocol))) {
    throw invalidBody('picture must be an http(s) URL');
  }
  return profile;
}

/** The new user, from fields already checked: the address is the login name unless the realm asks for a username. */
interface Applicant {
  readonly realm: RealmConfig;
  readonly email: string;
  readonly username: string;
  readonly password: string;
  readonly profile: Partial<Record<ProfileField, string>>;
  readonly metadata?: Record<string, string>;
}

function applicantOf(params: Params, realm: RealmConfig): Applicant {
  const required = realm.signup.requireUsername ? ['email', 'password', 'username'] : ['email', 'password'];
  const missing = required.filter((field) => params[field] === undefined);
  if (missing.length > 0) throw invalidBody(`Missing ${missing.join(', ')}`);
  const email = normalizeEmail(params.email as string);
  if (!isEmailAddress(email)) throw invalidBody('email must be an email address');
  if (!realm.signup.requireUsername && params.username !== undefined) {
    throw invalidBody('username is not used by this connection: users sign in with their email address');
  }
  const username = realm.signup.requireUsername ? (params.username as string).normalize('NFKC') : email;
  const problem = usernameProblem(username);
  if (problem) throw invalidBody(problem);
  const password = params.password as string;
  return {
    realm,
    email,
    username,
    password,
    profile: profileOf(params),
    metadata: parseMetadata(params.user_metadata),
  };
}

const responseOf = (userId: string, applicant: Applicant): SignupResponse => ({
  _id: userId,
  email: applicant.email,
  email_verified: false,
  ...(applicant.realm.signup.requireUsername ? { username: applicant.username } : {}),
  ...applicant.profile,
  ...(applicant.metadata ? { user_metadata: applicant.metadata } : {}),
});

/**
 * `POST dbconnections/signup` (Auth0's Authentication API, docs/reference.md): a user signs
 * themselves up into one of the client's realms. Where the realm verifies addresses, an address
 * that already has an account gets exactly the answer of a new one, in about the same time, and
 * its owner a notice mail instead (or, while still unverified, a new verification link): the
 * endpoint tells nobody which addresses have accounts. Everything a sign-up writes is one user
 * item (then a ticket and a mail): a failure after the user is written answers 503, and the user
 * asks for another verification mail by signing up again.
 */
export async function signUp(params: Params, info: RequestInfo, services: Services): Promise<SignupResponse> {
  const client = services.config.clients.find((candidate) => candidate.clientId === params.client_id);
  if (!client) throw invalidClient('unknown client_id', false);
  // No client authenticates here (Auth0's sign-up takes `client_id` alone), so no forwarded IP is trusted.
  const ip = canonicalIp(info.sourceIp) ?? info.sourceIp;
  const event = (type: AuditEventType, description: string, realm?: string, user?: UserRecord) =>
    audit(services.logger, info, {
      type,
      description,
      client_id: client.clientId,
      realm,
      user_id: user?.user_id,
      ip,
    });
  try {
    return await signUpInto(params, client, info, services, ip, event);
  } catch (error) {
    if (error instanceof SignupError) event('fs', error.detail, params.connection);
    throw error;
  }
}

async function signUpInto(
  params: Params,
  client: ClientConfig,
  info: RequestInfo,
  services: Services,
  ip: string,
  event: (type: AuditEventType, description: string, realm?: string, user?: UserRecord) => void,
): Promise<SignupResponse> {
  const connection = params.connection;
  if (connection === undefined) throw invalidBody('Missing connection');
  const realm = services.config.realms.find((candidate) => candidate.name === connection);
  if (!realm || !client.realms.includes(realm.name)) throw badConnection(connection);
  if (!realm.signup.enabled) throw signupDisabled(realm.name);
  const applicant = applicantOf(params, realm);

  const retryAfter = await takeHourly(
    services,
    'signup-ip',
    ipSubject(services, ip),
    realm.signup.maxPerIpPerHour,
  );
  if (retryAfter !== undefined) {
    event('limit_mu', 'Too many sign-ups from this IP address', realm.name);
    throw tooManyRequests('Too many sign-ups from this IP address; try again later.', retryAfter);
  }
  const problem = await realmPasswordProblem(services.config, realm, applicant.password, applicant);
  if (problem) throw invalidPassword(problem, realm);

  const now = new Date(services.clock.now()).toISOString();
  const user: NewUser = {
    realm: realm.name,
    user_id: newUserId(),
    session_epoch: firstSessionEpoch(),
    username: applicant.username,
    username_key: usernameKey(applicant.username),
    email: applicant.email,
    email_verified: false,
    ...applicant.profile,
    ...(applicant.metadata ? { user_metadata: applicant.metadata } : {}),
    blocked: false,
    created_at: now,
    password_hash: await services.hasher.hash(normalizePassword(applicant.password)),
    permissions: {},
  };
  const emailKey = addressKey(applicant.email);
  if (claimsAddresses(realm)) {
    const holder = await claimAddress(services.users, realm.name, emailKey, user.user_id).catch(
      (error: unknown) => {
        throw error instanceof AddressClaimRace ? invalidSignup(error.message) : error;
      },
    );
    if (holder) return answerTakenAddress(services, realm, holder, applicant, info, event);
  }
  try {
    const created = await services.users.create(user);
    if (verifiesEmail(realm)) await sendVerificationMail(services, created, info.issuer);
    event('ss', 'Successful signup', realm.name, created);
    return responseOf(created.user_id, applicant);
  } catch (error) {
    if (!(error instanceof UserExistsError)) throw error;
  }
  if (claimsAddresses(realm)) {
    // A username of the user's own choosing is no secret to keep (Auth0 says so too).
    await services.users.releaseEmail(realm.name, emailKey, user.user_id);
    throw invalidSignup('username already has an account');
  }
  const owner = await services.users.findByUsername(realm.name, user.username_key);
  return answerTakenAddress(services, realm, owner, applicant, info, event);
}

/**
 * The address has an account. Where the realm verifies addresses that is kept secret: the answer
 * is a new sign-up's, and the owner learns of it by mail (or, still unverified, gets a new link:
 * perhaps the owner's own sign-up, whose mail never came). Elsewhere Auth0's `invalid_signup`.
 */
async function answerTakenAddress(
  services: Services,
  realm: RealmConfig,
  owner: UserRecord | undefined,
  applicant: Applicant,
  info: RequestInfo,
  event: (type: AuditEventType, description: string, realm?: string, user?: UserRecord) => void,
): Promise<SignupResponse> {
  if (!verifiesEmail(realm)) throw invalidSignup('email already has an account');
  if (owner && !owner.email_verified) {
    await sendVerificationMail(services, owner, info.issuer);
  } else if (owner?.email) {
    await services.mailer.send(signupNoticeMail(owner.email, serviceNameOf(services.config)));
  }
  event('fs', 'Signup with an address that has an account (owner notified)', realm.name, owner);
  return responseOf(newUserId(), applicant);
}
