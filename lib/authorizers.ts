/**
 * What another CDK app imports (`passgate/authorizers`) to protect its API with passgate's access
 * tokens: an HTTP API JWT authorizer, or a REST API Lambda token authorizer.
 */
export { type PassgateJwtAuthorizerProps, passgateJwtAuthorizer } from './jwt-authorizer.ts';
export { PassgateRestAuthorizer, type PassgateRestAuthorizerProps } from './rest-authorizer.ts';
