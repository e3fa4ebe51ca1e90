import { isIP } from 'node:net';
import { CfnIPSet, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface AccountTakeoverPreventionProps {
  /**
   * How login requests carry `username` and `password`: RFC 6749 clients send forms, Auth0's SDKs
   * send JSON. ATP inspects one of the two.
   * @default 'FORM_ENCODED'
   */
  readonly payloadType?: 'FORM_ENCODED' | 'JSON';
}

export interface WebAclProps {
  /** ARN of the API Gateway stage to protect. */
  readonly stageArn: string;
  /** The token endpoint's path as clients send it (`/prod/oauth/token`, `/oauth/token` on a custom domain). */
  readonly tokenPath: string;
  /** The token route relative to the issuer (`/oauth/token`): what the rules match the path's end with. */
  readonly tokenRoute: string;
  /** Requests from one IP to the token endpoint in any 5 minutes before WAF blocks that IP. */
  readonly tokenRequestsPer5MinutesPerIp: number;
  /**
   * The MFA API's routes relative to the issuer (`/mfa/associate`…): one IP gets the token
   * endpoint's limit there too, on its own count. (The MFA grants themselves are token requests,
   * under the token endpoint's rule.)
   * @default none
   */
  readonly mfaRoutes?: readonly string[];
  /**
   * The accounts routes relative to the issuer (`/dbconnections/signup`, `/verify-email`…): one IP
   * gets `accountRequestsPer5MinutesPerIp` there, on its own count, before passgate's own hourly
   * limits per IP behind it.
   * @default none
   */
  readonly accountRoutes?: readonly string[];
  /** Requests from one IP to the accounts routes in any 5 minutes before WAF blocks that IP. */
  readonly accountRequestsPer5MinutesPerIp?: number;
  /**
   * IPs and CIDR blocks the rate rule leaves alone: the tenant config's `ipThrottling.allowlist`
   * (an office NAT, a backend that logs users in with `trustForwardedFor`), exempt from passgate's
   * own per-IP limit too.
   */
  readonly rateExempt?: readonly string[];
  /** AWS WAF Fraud Control account takeover prevention on the token endpoint; absent, off. */
  readonly accountTakeoverPrevention?: AccountTakeoverPreventionProps;
}

/**
 * The token route at the end of the path, whether or not WAF sees the stage in it, and however
 * the path is spelled on its way to the same API Gateway resource: with trailing slashes,
 * percent-encoded, or with `//` and `./` segments.
 */
export const tokenRoutePattern = (route: string) => routesPattern([route]);
function routesPattern(routes: readonly string[]): string {
  const escaped = routes.map((route) => route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return `${escaped.length === 1 ? escaped[0] : `(?:${escaped.join('|')})`}/*$`;
}
const isTokenRoute = (route: string) => isOneOf([route]);
const isOneOf = (routes: readonly string[]): CfnWebACL.StatementProperty => ({
  regexMatchStatement: {
    fieldToMatch: { uriPath: {} },
    regexString: routesPattern(routes),
    textTransformations: [
      { priority: 0, type: 'URL_DECODE' },
      { priority: 1, type: 'NORMALIZE_PATH' },
    ],
  },
});

/** The grants whose body carries `username` and `password`: the only requests ATP may inspect. */
const PASSWORD_GRANTS = ['password', 'http://auth0.com/oauth/grant-type/password-realm'] as const;

/**
 * A password grant sent as `payloadType`: the media type says so, and the body's `grant_type` is
 * one of PASSWORD_GRANTS. ATP blocks every request it inspects that lacks a username or password
 * (its MissingCredential rule), so refresh grants, and bodies of the other media type, must never
 * reach it.
 */
function isPasswordGrant(payloadType: 'FORM_ENCODED' | 'JSON'): CfnWebACL.StatementProperty {
  const json = payloadType === 'JSON';
  const mediaType: CfnWebACL.StatementProperty = {
    byteMatchStatement: {
      fieldToMatch: { singleHeader: { Name: 'content-type' } },
      positionalConstraint: 'STARTS_WITH',
      searchString: json ? 'application/json' : 'application/x-www-form-urlencoded',
      textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
    },
  };
  const grantType: CfnWebACL.StatementProperty = json
    ? {
        orStatement: {
          statements: PASSWORD_GRANTS.map((grant) => ({
            byteMatchStatement: {
              fieldToMatch: {
                jsonBody: {
                  matchPattern: { includedPaths: ['/grant_type'] },
                  matchScope: 'VALUE',
                  invalidFallbackBehavior: 'NO_MATCH',
                  oversizeHandling: 'NO_MATCH',
                },
              },
              positionalConstraint: 'EXACTLY',
              searchString: grant,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          })),
        },
      }
    : {
        regexMatchStatement: {
          fieldToMatch: { body: { oversizeHandling: 'NO_MATCH' } },
          regexString: `(^|&)grant_type=(${PASSWORD_GRANTS.map((grant) => grant.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})(&|$)`,
          textTransformations: [{ priority: 0, type: 'URL_DECODE' }],
        },
      };
  return { andStatement: { statements: [mediaType, grantType] } };
}

/** `address/bits` with the host bits cleared, as WAF IP sets take it; a bare address is one host. */
export function wafCidr(entry: string): { version: 'IPV4' | 'IPV6'; cidr: string } {
  const [address = '', bitsText] = entry.split('/');
  const v6 = isIP(address) === 6;
  const width = v6 ? 128 : 32;
  const bits = bitsText === undefined ? width : Number(bitsText);
  let value = v6
    ? ipv6ToBigInt(address)
    : address.split('.').reduce((n, part) => (n << 8n) + BigInt(part), 0n);
  value &= ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  const text = v6
    ? Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':')
    : Array.from({ length: 4 }, (_, i) => ((value >> BigInt(24 - 8 * i)) & 0xffn).toString()).join('.');
  return { version: v6 ? 'IPV6' : 'IPV4', cidr: `${text}/${bits}` };
}

function ipv6ToBigInt(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two groups.
  const expand = (parts: string[]) =>
    parts.flatMap((part) =>
      part.includes('.')
        ? (() => {
            const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
            return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
          })()
        : [part],
    );
  const left = expand(groups(head));
  const right = tail === undefined ? [] : expand(groups(tail));
  const all =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((n, part) => (n << 16n) + BigInt(Number.parseInt(part, 16)), 0n);
}

const visibility = (metricName: string) => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

/**
 * A regional AWS WAF web ACL on the API stage: a per-IP rate limit on the token endpoint (floods
 * and password spraying stop at the edge, before they cost an argon2 hash), Amazon's IP reputation
 * list, and optionally the paid account-takeover-prevention rule group. passgate's own brute-force
 * protection still applies behind it; WAF only takes the bulk.
 */
export class WebAcl extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: WebAclProps) {
    super(scope, id);
    const exempt = (props.rateExempt ?? []).map(wafCidr);
    const exemptSets = (['IPV4', 'IPV6'] as const)
      .map((version) => ({ version, addresses: exempt.filter((entry) => entry.version === version) }))
      .filter(({ addresses }) => addresses.length > 0)
      .map(
        ({ version, addresses }): CfnWebACL.StatementProperty => ({
          ipSetReferenceStatement: {
            arn: new CfnIPSet(this, `RateExempt${version}`, {
              scope: 'REGIONAL',
              ipAddressVersion: version,
              addresses: [...new Set(addresses.map((entry) => entry.cidr))],
              description: 'passgate: ipThrottling.allowlist, exempt from the token rate rule',
            }).attrArn,
          },
        }),
      );
    const exemptStatement: CfnWebACL.StatementProperty | undefined =
      exemptSets.length > 1 ? { orStatement: { statements: exemptSets } } : exemptSets[0];
    // The allowlisted IPs are left out of every rate rule, as passgate's own per-IP limit leaves them.
    const rateScope = (routes: CfnWebACL.StatementProperty): CfnWebACL.StatementProperty =>
      exemptStatement
        ? { andStatement: { statements: [routes, { notStatement: { statement: exemptStatement } }] } }
        : routes;
    const rateRule = (
      name: string,
      priority: number,
      routes: CfnWebACL.StatementProperty,
      metric: string,
      limit = props.tokenRequestsPer5MinutesPerIp,
    ) => ({
      name,
      priority,
      action: { block: {} },
      statement: {
        rateBasedStatement: {
          limit,
          evaluationWindowSec: 300,
          aggregateKeyType: 'IP',
          scopeDownStatement: rateScope(routes),
        },
      },
      visibilityConfig: visibility(metric),
    });
    const rules: CfnWebACL.RuleProperty[] = [
      rateRule('token-endpoint-rate-per-ip', 0, isTokenRoute(props.tokenRoute), 'passgate-token-rate'),
      {
        name: 'aws-ip-reputation',
        priority: 1,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesAmazonIpReputationList' },
        },
        visibilityConfig: visibility('passgate-ip-reputation'),
      },
    ];
    if (props.mfaRoutes && props.mfaRoutes.length > 0) {
      rules.push(rateRule('mfa-api-rate-per-ip', 3, isOneOf(props.mfaRoutes), 'passgate-mfa-rate'));
    }
    if (props.accountRoutes && props.accountRoutes.length > 0) {
      rules.push(
        rateRule(
          'account-routes-rate-per-ip',
          4,
          isOneOf(props.accountRoutes),
          'passgate-account-rate',
          props.accountRequestsPer5MinutesPerIp ?? props.tokenRequestsPer5MinutesPerIp,
        ),
      );
    }
    const atp = props.accountTakeoverPrevention;
    if (atp) {
      const payloadType = atp.payloadType ?? 'FORM_ENCODED';
      const json = payloadType === 'JSON';
      rules.push({
        name: 'aws-account-takeover-prevention',
        priority: 2,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: 'AWS',
            name: 'AWSManagedRulesATPRuleSet',
            managedRuleGroupConfigs: [
              {
                awsManagedRulesAtpRuleSet: {
                  loginPath: props.tokenPath,
                  requestInspection: {
                    payloadType,
                    usernameField: { identifier: json ? '/username' : 'username' },
                    passwordField: { identifier: json ? '/password' : 'password' },
                  },
                },
              },
            ],
            // Only password grants on the token endpoint are logins: ATP sees nothing else (a
            // refresh grant has no password and would be blocked), and nothing else is billed.
            scopeDownStatement: {
              andStatement: { statements: [isTokenRoute(props.tokenRoute), isPasswordGrant(payloadType)] },
            },
            // Belt and braces: a request that still arrives without credentials is labelled and
            // counted, never blocked; passgate answers it with its own OAuth error.
            ruleActionOverrides: [{ name: 'MissingCredential', actionToUse: { count: {} } }],
          },
        },
        visibilityConfig: visibility('passgate-account-takeover'),
      });
    }
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'passgate: rate limits on the token, MFA and accounts routes, IP reputation',
      rules,
      visibilityConfig: visibility('passgate'),
    });
    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
