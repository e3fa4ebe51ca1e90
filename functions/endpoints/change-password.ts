import { parseBody } from '../http/body.ts';
import { refuseForeignOrigin } from '../http/cors.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { RESET_REQUESTED, requestPasswordReset } from '../oauth/accounts/password-reset.ts';

/**
 * `POST dbconnections/change_password` (Auth0's Authentication API): JSON or form with
 * `client_id`, `email` and `connection`. Auth0 answers its fixed sentence as the whole body, with
 * `text/html`, and its SDKs read it as text: so does passgate, never cached.
 */
export const changePasswordEndpoint = browserEndpoint('per-client', async (event, services) => {
  const params = parseBody(event);
  const info = requestInfo(event, services);
  refuseForeignOrigin(event, params.client_id, info, services);
  await requestPasswordReset(
    { clientId: params.client_id, email: params.email, connection: params.connection },
    info,
    services,
  );
  return {
    statusCode: 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
    },
    body: RESET_REQUESTED,
  };
});
