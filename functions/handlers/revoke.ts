/** Lambda entry point of `POST /oauth/revoke` (RFC 7009). */

import { revokeEndpoint } from '../endpoints/revoke.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(revokeEndpoint, awsServices());
