/** Lambda entry point of `GET /verify-email` (the verification mail's link). */

import { verifyEmailEndpoint } from '../endpoints/verify-email.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(verifyEmailEndpoint, awsServices());
