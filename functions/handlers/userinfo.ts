/** Lambda entry point of `GET` and `POST /userinfo` (OpenID Connect Core §5.3). */

import { userinfoEndpoint } from '../endpoints/userinfo.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(userinfoEndpoint, awsServices());
