import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/load.ts';
import { presentedCredentials } from '../../functions/http/client-credentials.ts';
import { authenticateClient, hashClientSecret, newClientSecret } from '../../functions/oauth/client-auth.ts';
import { OAuthError } from '../../functions/oauth/errors.ts';
import { BACKOFFICE_SECRET, testConfig } from '../helpers/config.ts';

const config = parseConfig(testConfig());
const eventWith = (headers: Record<string, string>) => ({ headers }) as unknown as APIGatewayProxyEvent;
const basic = (value: string) => ({ authorization: `Basic ${Buffer.from(value).toString('base64')}` });

function rejection(run: () => unknown): OAuthError {
  try {
    run();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('client authentication', () => {
  it('makes secrets of 256 bits whose hash matches the config format', () => {
    const { secret, clientSecretHash } = newClientSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(clientSecretHash).toBe(hashClientSecret(secret));
    expect(clientSecretHash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
  });

  it('reads client_secret_basic with form-encoded id and secret (RFC 6749 §2.3.1)', () => {
    const credentials = presentedCredentials(eventWith(basic('back%20office:s%3Acret+x')), {});
    expect(credentials).toEqual({
      clientId: 'back office',
      clientSecret: 's:cret x',
      method: 'client_secret_basic',
    });
  });

  it('reads client_secret_post and public clients from the body', () => {
    expect(presentedCredentials(eventWith({}), { client_id: 'a', client_secret: 'b' }).method).toBe(
      'client_secret_post',
    );
    expect(presentedCredentials(eventWith({}), { client_id: 'a' })).toEqual({
      clientId: 'a',
      clientSecret: undefined,
      method: 'none',
    });
  });

  it('refuses malformed Basic credentials with 401 and a WWW-Authenticate header', () => {
    const error = rejection(() => presentedCredentials(eventWith({ Authorization: 'Basic !!!' }), {}));
    expect(error.status).toBe(401);
    expect(error.headers['WWW-Authenticate']).toMatch(/^Basic/);
    expect(rejection(() => presentedCredentials(eventWith(basic('no-colon')), {})).error).toBe(
      'invalid_client',
    );
  });

  it('refuses a client_id in the body that differs from the header', () => {
    const error = rejection(() =>
      presentedCredentials(eventWith(basic('backoffice:x')), { client_id: 'mobile-app' }),
    );
    expect(error.error).toBe('invalid_request');
  });

  it('authenticates confidential clients by secret and public clients by id', () => {
    expect(
      authenticateClient(config, {
        clientId: 'backoffice',
        clientSecret: BACKOFFICE_SECRET,
        method: 'client_secret_post',
      }).clientId,
    ).toBe('backoffice');
    expect(
      authenticateClient(config, { clientId: 'mobile-app', clientSecret: undefined, method: 'none' })
        .clientId,
    ).toBe('mobile-app');
    for (const presented of [
      { clientId: 'backoffice', clientSecret: 'wrong', method: 'client_secret_post' },
      { clientId: 'backoffice', clientSecret: undefined, method: 'none' },
      { clientId: 'nobody', clientSecret: undefined, method: 'none' },
      { clientId: 'mobile-app', clientSecret: 'anything', method: 'client_secret_post' },
    ] as const) {
      const error = rejection(() => authenticateClient(config, presented));
      expect([error.status, error.error]).toEqual([401, 'invalid_client']);
    }
  });
});
