/** Lambda entry point of `GET` and `POST /userinfo` (OpenID Connect Core §5.3). */
import { proxyHandler } from '../http/handler.ts';
import { endpoints } from '../routes.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(endpoints.userinfo, awsServices());
