import type { GrantType } from '../../config/grant-types.ts';
import type { ClientConfig } from '../../config/schema.ts';
import type { RequestInfo, Services } from '../services.ts';
import type { TokenResponse } from '../tokens.ts';

/** A token request after parsing and client authentication. */
export interface TokenRequest {
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly client: ClientConfig;
  readonly info: RequestInfo;
}

/** Every grant has this shape: its `grant_type`, the parameters it requires, and its handler. */
export interface Grant {
  readonly grantType: GrantType;
  readonly requiredParameters: readonly string[];
  /** The grant awaits `info.proofClaimed` beside its first round itself (RequestInfo). */
  readonly awaitsProofClaim?: true;
  handle(request: TokenRequest, services: Services): Promise<TokenResponse>;
}
