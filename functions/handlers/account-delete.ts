/** Lambda entry point of `POST /account/delete`: a user deletes their own account. */

import { accountDeleteEndpoint } from '../endpoints/account-delete.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(accountDeleteEndpoint, awsServices());
