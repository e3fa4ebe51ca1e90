/** Lambda entry point of `GET /mfa/authenticators`: reads the user item and the `mfa_token`. */

import { mfaAuthenticatorsEndpoint } from '../endpoints/mfa-authenticators.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(mfaAuthenticatorsEndpoint, awsServices());
