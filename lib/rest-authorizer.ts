import { Duration } from 'aws-cdk-lib';
import { TokenAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PassgateFunction } from './constructs/passgate-function.ts';

export interface PassgateRestAuthorizerProps {
  /** The passgate issuer, with its trailing slash: the stack's `Issuer` output or `PassgateStack.issuer`. */
  readonly issuer: string;
  /** The API identifier(s) (`aud`) this API accepts, as configured in `apis` of passgate.config.json. */
  readonly audience: string | readonly string[];
  /**
   * How long API Gateway caches a token's decision.
   * @default Duration.minutes(5)
   */
  readonly resultsCacheTtl?: Duration;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

/**
 * The authorizer's code, inline so that a team's CDK app needs no bundler: Node's own crypto and
 * fetch. It accepts exactly what a resource server must (RFC 9068 §4): an RS256 JWT with `typ`
 * `at+jwt`, signed by a key of the issuer's JWKS, `iss` equal to the issuer, `aud` one of the
 * audiences, `exp` in the future. Anything else is API Gateway's 401 ("Unauthorized").
 */
export const REST_AUTHORIZER_SOURCE = `'use strict';
const { createPublicKey, verify } = require('node:crypto');
const issuer = process.env.PASSGATE_ISSUER;
const audiences = JSON.parse(process.env.PASSGATE_AUDIENCES);
let keys = new Map();
let fetchedAt = 0;
// The JWKS is read again at most once a minute, for a kid it does not know (a new signing key).
async function keyFor(kid) {
  if (!keys.has(kid) && Date.now() - fetchedAt > 60000) {
    fetchedAt = Date.now();
    const response = await fetch(issuer + '.well-known/jwks.json');
    if (!response.ok) throw new Error('JWKS unavailable: ' + response.status);
    const { keys: jwks } = await response.json();
    keys = new Map(jwks.filter((k) => k.kty === 'RSA' && k.kid).map((k) => [k.kid, createPublicKey({ key: { kty: k.kty, n: k.n, e: k.e }, format: 'jwk' })]));
  }
  return keys.get(kid);
}
const part = (text) => JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
async function claimsOf(authorization) {
  const match = /^Bearer ([\\w-]+)\\.([\\w-]+)\\.([\\w-]+)$/.exec(authorization || '');
  if (!match) return undefined;
  const header = part(match[1]);
  if (header.alg !== 'RS256' || header.typ !== 'at+jwt' || typeof header.kid !== 'string') return undefined;
  const key = await keyFor(header.kid);
  const signed = Buffer.from(match[1] + '.' + match[2]);
  if (!key || !verify('RSA-SHA256', signed, key, Buffer.from(match[3], 'base64url'))) return undefined;
  const claims = part(match[2]);
  const now = Date.now() / 1000;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== issuer || !aud.some((a) => audiences.includes(a))) return undefined;
  if (!(typeof claims.exp === 'number' && claims.exp > now)) return undefined;
  if (typeof claims.nbf === 'number' && claims.nbf > now) return undefined;
  return claims;
}
exports.handler = async (event) => {
  const claims = await claimsOf(event.authorizationToken);
  if (!claims) throw new Error('Unauthorized');
  return {
    principalId: claims.sub,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
    context: { sub: claims.sub, scope: claims.scope || '', client_id: claims.client_id || '' },
  };
};
`;

/**
 * A REST API (API Gateway v1) Lambda token authorizer that accepts passgate's access tokens; an
 * HTTP API takes `passgateJwtAuthorizer` instead, with no function at all. The verified `sub`,
 * `scope` and `client_id` reach the integration as `$context.authorizer.*`.
 *
 * ```ts
 * const authorizer = new PassgateRestAuthorizer(this, 'Passgate', { issuer, audience: 'https://api.shop.test/' });
 * api.root.addResource('orders').addMethod('GET', integration, { authorizer: authorizer.authorizer });
 * ```
 */
export class PassgateRestAuthorizer extends Construct {
  readonly authorizer: TokenAuthorizer;

  constructor(scope: Construct, id: string, props: PassgateRestAuthorizerProps) {
    super(scope, id);
    const audiences = typeof props.audience === 'string' ? [props.audience] : [...props.audience];
    const verifier = new PassgateFunction(this, 'Verifier', {
      code: Code.fromInline(REST_AUTHORIZER_SOURCE),
      memoryMiB: 256,
      environment: { PASSGATE_ISSUER: props.issuer, PASSGATE_AUDIENCES: JSON.stringify(audiences) },
      logRetention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      description: 'passgate access token authorizer',
    });
    this.authorizer = new TokenAuthorizer(this, 'Authorizer', {
      handler: verifier.function,
      resultsCacheTtl: props.resultsCacheTtl ?? Duration.minutes(5),
    });
  }
}
