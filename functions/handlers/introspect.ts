/** Lambda entry point of `POST /oauth/introspect` (RFC 7662). */

import { introspectEndpoint } from '../endpoints/introspect.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(introspectEndpoint, awsServices());
