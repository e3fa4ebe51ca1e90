/** Lambda entry point of the discovery documents and the JWKS (`GET .well-known/…`). */
import { proxyHandler } from '../http/handler.ts';
import { endpoints } from '../routes.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(endpoints.metadata, awsServices());
