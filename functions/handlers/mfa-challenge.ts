/** Lambda entry point of `POST /mfa/challenge`: reads the user item and the `mfa_token`. */

import { mfaChallengeEndpoint } from '../endpoints/mfa-challenge.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(mfaChallengeEndpoint, awsServices());
