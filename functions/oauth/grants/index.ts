import type { GrantType } from '../../config/grant-types.ts';
import type { Grant } from './grant.ts';
import { mfaOtpGrant } from './mfa-otp.ts';
import { mfaRecoveryCodeGrant } from './mfa-recovery-code.ts';
import { passwordGrant } from './password.ts';
import { passwordRealmGrant } from './password-realm.ts';
import { refreshTokenGrant } from './refresh-token.ts';

/** The grants the token endpoint serves, by `grant_type`. */
export const grants: ReadonlyMap<string, Grant> = new Map<GrantType, Grant>(
  [passwordGrant, passwordRealmGrant, refreshTokenGrant, mfaOtpGrant, mfaRecoveryCodeGrant].map((grant) => [
    grant.grantType,
    grant,
  ]),
);
