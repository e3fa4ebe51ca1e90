import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { passgateJwtAuthorizer } from '../jwt-authorizer.ts';
import { PassgateFunction } from './passgate-function.ts';

export interface ExampleApiProps {
  readonly issuer: string;
  readonly audience: string;
  readonly logRetention: RetentionDays;
}

/** Answers with the claims API Gateway verified: what a resource server behind passgate sees. */
const ECHO_HANDLER = `exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify({ claims: event.requestContext.authorizer.jwt.claims }),
});`;

/**
 * An example protected API (off by default): an HTTP API whose `GET /claims` only answers a valid
 * passgate access token for `audience`, through the same JWT authorizer users get from
 * lib/jwt-authorizer.ts, and echoes the token's claims.
 */
export class ExampleApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: ExampleApiProps) {
    super(scope, id);
    const echo = new PassgateFunction(this, 'Echo', {
      code: Code.fromInline(ECHO_HANDLER),
      memoryMiB: 128,
      environment: {},
      logRetention: props.logRetention,
      description: 'example protected API: echoes the verified claims',
    });
    this.api = new HttpApi(this, 'Api', {
      description: 'passgate example protected API',
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api.addStage('Stage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 10, burstLimit: 20 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    this.api.addRoutes({
      path: '/claims',
      methods: [HttpMethod.GET],
      integration: new HttpLambdaIntegration('Echo', echo.function),
      authorizer: passgateJwtAuthorizer('Passgate', { issuer: props.issuer, audience: props.audience }),
    });
  }
}
