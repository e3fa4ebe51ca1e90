/** Lambda entry point of `POST /mfa/associate`: seals a new TOTP secret with the MFA key (KMS Encrypt) and writes the pending enrolment. */

import { mfaAssociateEndpoint } from '../endpoints/mfa-associate.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(mfaAssociateEndpoint, awsServices());
