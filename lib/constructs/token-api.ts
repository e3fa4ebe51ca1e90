import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  DomainName,
  EndpointType,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  ResponseType,
  RestApi,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { CORS_EXPOSE_HEADERS } from '../../functions/http/cors.ts';
import type { EndpointName, Route } from '../../functions/routes.ts';

export interface CustomDomainProps {
  /** For example `auth.example.com`; the issuer becomes `https://auth.example.com/`. */
  readonly domainName: string;
  /** An ACM certificate for `domainName` in the stack's region (the endpoint is regional). */
  readonly certificateArn: string;
  /**
   * The Route 53 public zone to create the alias record in.
   * @default no record: point a CNAME at the `CustomDomainTarget` output yourself
   */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
}

export interface TokenApiProps {
  readonly routes: readonly Route[];
  readonly functions: ReadonlyMap<EndpointName, IFunction>;
  readonly stageName: string;
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  readonly customDomain?: CustomDomainProps;
}

/**
 * Every access log line: who, what, how it ended and how long it took. Never the body, the
 * query string or a header value, so no password, secret or token can land in the logs.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTimeEpoch',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  domainName: '$context.domainName',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  integrationError: '$context.integration.error',
  errorMessage: '$context.error.message',
  wafStatus: '$context.waf.status',
  xrayTraceId: '$context.xrayTraceId',
} as const;

/**
 * RFC 6749 §5.1 and §5.2: errors are JSON `{error, error_description}` and never cached. The
 * Content-Type is said outright: Auth0.Android reads an error body only when it is JSON.
 */
const NO_STORE_HEADERS = {
  'Content-Type': "'application/json'",
  'Cache-Control': "'no-store'",
  Pragma: "'no-cache'",
} as const;

/**
 * The gateway's own errors must be readable by a page, or the browser reports only "network
 * error". A gateway response can copy a request header but not look it up in a list, so the
 * request's Origin is echoed unchecked (http/cors.ts gatewayErrorCorsHeaders does the same
 * locally): these answers are fixed text with no token, user or client data, and passgate uses
 * no cookies (no Access-Control-Allow-Credentials), so any page reading them learns nothing it
 * could not learn by calling the API itself. Web ACL blocks come through WAF_FILTERED below: the
 * web ACL's rules set no custom response of their own, which would take precedence over it.
 */
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': 'method.request.header.Origin',
  'Access-Control-Expose-Headers': `'${CORS_EXPOSE_HEADERS}'`,
  Vary: "'Origin'",
} as const;

/** API Gateway's own refusals, in the error shape of docs/reference.md. */
const GATEWAY_RESPONSES = [
  {
    id: 'UnknownPath',
    type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    error: 'invalid_request',
    description: '"Unknown endpoint."',
  },
  // The stage's throttling protects the whole service, whoever sends: for the app that is the
  // service being busy, passgate's 503 `temporarily_unavailable` (403 `access_denied` means a
  // blocked user, and 429 `too_many_attempts` something this client or IP did).
  {
    id: 'Throttled',
    type: ResponseType.THROTTLED,
    statusCode: '503',
    error: 'temporarily_unavailable',
    description: '"The service is busy; retry shortly."',
    headers: { 'Retry-After': "'1'" },
  },
  // The web ACL refuses an IP (its rate rule, the IP reputation list, account takeover prevention):
  // passgate's 429 `too_many_attempts` for protection against one IP.
  {
    id: 'WafFiltered',
    type: ResponseType.WAF_FILTERED,
    statusCode: '429',
    error: 'too_many_attempts',
    description: '"Too many requests from this IP address; try again later."',
    headers: { 'Retry-After': "'60'" },
  },
  {
    id: 'Default4xx',
    type: ResponseType.DEFAULT_4XX,
    error: 'invalid_request',
    description: '$context.error.messageString',
  },
  {
    id: 'Default5xx',
    type: ResponseType.DEFAULT_5XX,
    error: 'temporarily_unavailable',
    description: '$context.error.messageString',
  },
] as const;

/**
 * The public face: a regional REST API (REST rather than HTTP API because AWS WAF attaches to
 * REST stages) routing each path of functions/routes.ts to its endpoint's function, with stage
 * throttling, JSON access logs and X-Ray tracing; optionally behind a custom domain, in which case
 * the execute-api URL is switched off so that tokens have exactly one issuer.
 */
export class TokenApi extends Construct {
  readonly api: RestApi;
  /** `https://…/` with the trailing slash (docs/reference.md, "The issuer"). */
  readonly issuer: string;
  readonly domain?: DomainName;

  constructor(scope: Construct, id: string, props: TokenApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: Stack.of(this).stackName,
      description: 'passgate OAuth 2.0 authorization server',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      disableExecuteApiEndpoint: props.customDomain !== undefined,
      // A REST API stage with access logs is refused until the region's API Gateway account
      // settings name a CloudWatch role (a fresh account has none): the stack sets one, and keeps
      // it when deleted, since every REST API of the region relies on that setting.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: props.throttling.rateLimit,
        throttlingBurstLimit: props.throttling.burstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        tracingEnabled: true,
        metricsEnabled: true,
      },
    });

    // RestApi's own URL output duplicates the stack's Issuer output, and names a disabled URL
    // when a custom domain is set.
    this.api.node.tryRemoveChild('Endpoint');

    for (const response of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(response.id, {
        type: response.type,
        ...('statusCode' in response ? { statusCode: response.statusCode } : {}),
        responseHeaders: {
          ...NO_STORE_HEADERS,
          ...CORS_HEADERS,
          ...('headers' in response ? response.headers : {}),
        },
        templates: {
          'application/json': `{"error":"${response.error}","error_description":${response.description}}`,
        },
      });
    }

    const integrations = new Map<EndpointName, LambdaIntegration>();
    for (const route of props.routes) {
      const fn = props.functions.get(route.endpoint);
      if (!fn) throw new Error(`no function for endpoint "${route.endpoint}"`);
      let integration = integrations.get(route.endpoint);
      if (!integration) {
        integration = new LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
        integrations.set(route.endpoint, integration);
      }
      const resource = route.path
        .split('/')
        .reduce<IResource>(
          (parent, part) => parent.getResource(part) ?? parent.addResource(part),
          this.api.root,
        );
      // Public by design: the token endpoint authenticates clients itself (RFC 6749 §2.3) and
      // the discovery documents and JWKS are for everyone (OpenID Connect Discovery §4).
      resource.addMethod(route.method, integration, { authorizationType: AuthorizationType.NONE });
    }

    if (props.customDomain) {
      const { domainName, certificateArn, hostedZone } = props.customDomain;
      this.domain = new DomainName(this, 'Domain', {
        domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', certificateArn),
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy.TLS_1_2,
        mapping: this.api,
      });
      if (hostedZone) {
        new ARecord(this, 'AliasRecord', {
          zone: HostedZone.fromHostedZoneAttributes(this, 'Zone', hostedZone),
          recordName: domainName,
          target: RecordTarget.fromAlias(new ApiGatewayDomain(this.domain)),
        });
      }
      this.issuer = `https://${domainName}/`;
    } else {
      this.issuer = this.api.url;
    }
  }
}
