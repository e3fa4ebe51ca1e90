import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
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
  /** AWS WAF Fraud Control account takeover prevention on the token endpoint; absent, off. */
  readonly accountTakeoverPrevention?: AccountTakeoverPreventionProps;
}

/**
 * The token route at the end of the path, whether or not WAF sees the stage in it, and however
 * the path is spelled on its way to the same API Gateway resource: with trailing slashes,
 * percent-encoded, or with `//` and `./` segments.
 */
export const tokenRoutePattern = (route: string) => `${route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/*$`;
const isTokenRoute = (route: string): CfnWebACL.StatementProperty => ({
  regexMatchStatement: {
    fieldToMatch: { uriPath: {} },
    regexString: tokenRoutePattern(route),
    textTransformations: [
      { priority: 0, type: 'URL_DECODE' },
      { priority: 1, type: 'NORMALIZE_PATH' },
    ],
  },
});

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
    const rules: CfnWebACL.RuleProperty[] = [
      {
        name: 'token-endpoint-rate-per-ip',
        priority: 0,
        action: { block: {} },
        statement: {
          rateBasedStatement: {
            limit: props.tokenRequestsPer5MinutesPerIp,
            evaluationWindowSec: 300,
            aggregateKeyType: 'IP',
            scopeDownStatement: isTokenRoute(props.tokenRoute),
          },
        },
        visibilityConfig: visibility('passgate-token-rate'),
      },
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
    const atp = props.accountTakeoverPrevention;
    if (atp) {
      const json = atp.payloadType === 'JSON';
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
                    payloadType: json ? 'JSON' : 'FORM_ENCODED',
                    usernameField: { identifier: json ? '/username' : 'username' },
                    passwordField: { identifier: json ? '/password' : 'password' },
                  },
                },
              },
            ],
            // Only the token endpoint is a login page; nothing else is worth the per-request fee.
            scopeDownStatement: isTokenRoute(props.tokenRoute),
          },
        },
        visibilityConfig: visibility('passgate-account-takeover'),
      });
    }
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'passgate: rate limit on the token endpoint, IP reputation',
      rules,
      visibilityConfig: visibility('passgate'),
    });
    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
