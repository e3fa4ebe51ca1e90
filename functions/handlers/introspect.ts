/** Lambda entry point of `POST /oauth/introspect` (RFC 7662). */
import { proxyHandler } from '../http/handler.ts';
import { endpoints } from '../routes.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(endpoints.introspect, awsServices());
