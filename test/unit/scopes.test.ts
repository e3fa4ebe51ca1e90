import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/load.ts';
import { OAuthError } from '../../functions/oauth/errors.ts';
import { grantScopes, parseScope, resolveApi } from '../../functions/oauth/scopes.ts';
import { API, STRICT_API, testConfig } from '../helpers/config.ts';

const config = parseConfig(testConfig());
const api = config.apis[0];
const strict = config.apis[1];
if (!api || !strict) throw new Error('test config has two APIs');

describe('scope and audience resolution', () => {
  it('parses scope-tokens in order without duplicates', () => {
    expect(parseScope('openid read:orders openid')).toEqual(['openid', 'read:orders']);
    expect(parseScope(undefined)).toEqual([]);
    expect(() => parseScope('a  b')).toThrow(OAuthError);
    expect(() => parseScope('a\\b')).toThrow(OAuthError);
  });

  it('grants requested API scopes the API defines, plus requested OIDC scopes', () => {
    expect(
      grantScopes(['openid', 'read:orders', 'delete:orders', 'offline_access'], api, undefined, true),
    ).toEqual(['openid', 'read:orders', 'offline_access']);
    expect(grantScopes([], api, undefined, true)).toEqual([]);
  });

  it('grants offline_access only with a refresh token (RFC 6749 section 5.1)', () => {
    expect(grantScopes(['openid', 'offline_access', 'read:orders'], api, undefined, false)).toEqual([
      'openid',
      'read:orders',
    ]);
  });

  it('grants only held scopes on an API that enforces permissions', () => {
    expect(grantScopes(['read:reports', 'admin:reports', 'email'], strict, ['read:reports'], false)).toEqual([
      'read:reports',
      'email',
    ]);
  });

  it('defaults the audience, accepts resource, refuses unknown or conflicting ones', () => {
    expect(resolveApi(config, undefined, undefined).identifier).toBe(API);
    expect(resolveApi(config, undefined, STRICT_API).identifier).toBe(STRICT_API);
    expect(resolveApi(config, STRICT_API, STRICT_API).identifier).toBe(STRICT_API);
    expect(() => resolveApi(config, 'https://other/', undefined)).toThrow(/Unknown audience/);
    expect(() => resolveApi(config, API, STRICT_API)).toThrow(/different APIs/);
  });
});
