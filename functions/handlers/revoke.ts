/** Lambda entry point of `POST /oauth/revoke` (RFC 7009). */
import { proxyHandler } from '../http/handler.ts';
import { endpoints } from '../routes.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(endpoints.revoke, awsServices());
