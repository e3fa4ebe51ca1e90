import { defaults } from '../../config/defaults.ts';
import type { RealmConfig } from '../../config/schema.ts';
import type { PasswordProblem } from '../passwords/policy.ts';

/**
 * A refused sign-up, in the shape of Auth0's `dbconnections/signup` errors (`name`, `code`,
 * `description`, `statusCode`), which Auth0's SDKs and Lock read: auth0.js and Lock map
 * `invalid_password` and the error's `name` to their messages. `detail` is for the audit log only.
 */
export class SignupError extends Error {
  constructor(
    readonly status: number,
    readonly body: Readonly<Record<string, unknown>>,
    readonly detail: string,
  ) {
    super(`sign-up refused: ${detail}`);
    this.name = 'SignupError';
  }
}

const badRequest = (code: string, description: string, detail: string) =>
  new SignupError(400, { name: 'BadRequestError', code, description, statusCode: 400 }, detail);

/** Auth0's answer to a sign-up it will not explain (an address or username already taken). */
export const invalidSignup = (detail: string) => badRequest('invalid_signup', 'Invalid sign up', detail);

/** A missing or malformed field, named. */
export const invalidBody = (description: string) => badRequest('invalid_body', description, description);

/** No such realm for this client: one answer for both, so realms the client lacks are not listed. */
export const badConnection = (connection: string) =>
  badRequest(
    'bad.connection',
    'The connection does not exist or is not enabled for this client.',
    `connection ${JSON.stringify(connection)}`,
  );

export const signupDisabled = (realm: string) =>
  new SignupError(
    403,
    {
      name: 'BadRequestError',
      code: 'operation_not_supported',
      description: 'Public signup is disabled',
      statusCode: 403,
    },
    `sign-up is disabled in realm ${JSON.stringify(realm)}`,
  );

/** Auth0's PasswordStrengthError: each rule of the length policy, `verified` where it held. */
function strengthError(problem: PasswordProblem, realm: RealmConfig): SignupError {
  const { minLength } = realm.passwordPolicy;
  const rules = [
    {
      message: 'At least %d characters in length',
      format: [minLength],
      code: 'lengthAtLeast',
      verified: problem.rule !== 'too-short',
    },
    {
      message: 'At most %d bytes',
      format: [defaults.passwordMaxBytes],
      code: 'lengthAtMost',
      verified: problem.rule !== 'too-long',
    },
  ];
  return new SignupError(
    400,
    {
      name: 'PasswordStrengthError',
      message: 'Password is too weak',
      code: 'invalid_password',
      description: { rules, verified: false },
      policy: `* At least ${minLength} characters in length\n* At most ${defaults.passwordMaxBytes} bytes`,
      statusCode: 400,
    },
    problem.message,
  );
}

/**
 * A password the realm's policy refuses, as Auth0 answers each rule: PasswordStrengthError for the
 * length, PasswordDictionaryError for a common or breached password, PasswordNoUserInfoError for
 * one that contains the user's or the service's words; all with code `invalid_password`.
 */
export function invalidPassword(problem: PasswordProblem, realm: RealmConfig): SignupError {
  switch (problem.rule) {
    case 'too-short':
    case 'too-long':
      return strengthError(problem, realm);
    case 'common':
    case 'breached':
      return new SignupError(
        400,
        {
          name: 'PasswordDictionaryError',
          message: 'Password is too common',
          code: 'invalid_password',
          description: 'Password is not allowed, it might be too common.',
          statusCode: 400,
        },
        problem.message,
      );
    case 'personal':
      return new SignupError(
        400,
        {
          name: 'PasswordNoUserInfoError',
          message: 'Password contains user information',
          code: 'invalid_password',
          description: 'Password contains user information',
          statusCode: 400,
        },
        problem.message,
      );
  }
}
