import { parseBody } from '../http/body.ts';
import { refuseForeignOrigin } from '../http/cors.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { signUp } from '../oauth/accounts/signup.ts';
import { SignupError } from '../oauth/accounts/signup-errors.ts';

/**
 * `POST /dbconnections/signup` (Auth0's Authentication API): JSON or form, for apps and for pages
 * on the client's allowed origins. Refusals of the sign-up itself answer in Auth0's sign-up error
 * shape, which Auth0's SDKs read; a malformed body, an unknown client, a limit or an unavailable
 * dependency in the OAuth error shape, as everywhere else.
 */
export const signupEndpoint = browserEndpoint('per-client', async (event, services) => {
  const params = parseBody(event, [], ['user_metadata']);
  const info = requestInfo(event, services);
  refuseForeignOrigin(event, params.client_id, info, services);
  try {
    return noStoreJson(200, await signUp(params, info, services));
  } catch (error) {
    if (error instanceof SignupError) return noStoreJson(error.status, error.body);
    throw error;
  }
});
