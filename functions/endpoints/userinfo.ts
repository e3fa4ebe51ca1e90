import type { Endpoint } from '../http/handler.ts';
import { header } from '../http/headers.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { handleUserinfo } from '../oauth/sessions/userinfo.ts';

/** `GET /userinfo` (OpenID Connect Core §5.3); personal data, so never cached. */
export const userinfoEndpoint: Endpoint = async (event, services) =>
  noStoreJson(
    200,
    await handleUserinfo(header(event, 'authorization'), requestInfo(event, services), services),
  );
