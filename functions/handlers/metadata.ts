/** Lambda entry point of the discovery documents and the JWKS (`GET .well-known/…`). */

import { metadataEndpoint } from '../endpoints/metadata.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';

export const handler = proxyHandler(metadataEndpoint, awsServices());
