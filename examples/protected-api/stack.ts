/**
 * A team's own CDK stack protecting its APIs with passgate's access tokens, through the package's
 * `passgate/authorizers` export: an HTTP API with the JWT authorizer, and a REST API with the Lambda
 * token authorizer. The issuer is the passgate stack's `Issuer` output.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Construct } from 'constructs';
import { PassgateRestAuthorizer, passgateJwtAuthorizer } from 'passgate/authorizers';

export interface OrdersApiStackProps extends StackProps {
  /** passgate's issuer, trailing slash included. */
  readonly issuer: string;
  /** The API identifier configured in passgate's `apis`. */
  readonly audience: string;
}

export class OrdersApiStack extends Stack {
  constructor(scope: Construct, id: string, props: OrdersApiStackProps) {
    super(scope, id, props);
    const http = new HttpApi(this, 'OrdersHttpApi');
    http.addRoutes({
      path: '/orders',
      methods: [HttpMethod.GET],
      integration: new HttpUrlIntegration('Backend', 'https://backend.internal.invalid/orders'),
      authorizer: passgateJwtAuthorizer('Passgate', { issuer: props.issuer, audience: props.audience }),
      authorizationScopes: ['read:orders'],
    });
    const rest = new RestApi(this, 'OrdersRestApi');
    const { authorizer } = new PassgateRestAuthorizer(this, 'Passgate', {
      issuer: props.issuer,
      audience: props.audience,
    });
    rest.root.addResource('orders').addMethod('GET', new MockIntegration(), { authorizer });
  }
}
