import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface SigningKeysProps {
  /** Name of the key that signs new tokens. */
  readonly current: string;
  /** Names of keys published in the JWKS but not signing: the next one, or ones retiring. */
  readonly verification: readonly string[];
}

/**
 * Asymmetric KMS keys (RSA_2048, SIGN_VERIFY) whose private halves never leave KMS. KMS does not
 * rotate asymmetric keys, so rotation is a list of named keys (docs/operating.md has the runbook).
 * A key's construct id depends on its name only, never on its role, so moving a key between
 * `current` and `verification` never replaces it; a key dropped from both is kept (`RETAIN`)
 * until the operator schedules its deletion, because tokens it signed may still be in use.
 */
export class SigningKeys extends Construct {
  readonly current: Key;
  readonly all: readonly Key[];

  constructor(scope: Construct, id: string, props: SigningKeysProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const key = (name: string) =>
      new Key(this, `Key-${name}`, {
        keySpec: KeySpec.RSA_2048,
        keyUsage: KeyUsage.SIGN_VERIFY,
        alias: `alias/${stackName}/signing-key-${name}`,
        description: `passgate ${stackName}: token signing key "${name}" (RS256)`,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.current = key(props.current);
    this.all = [this.current, ...props.verification.map(key)];
  }
}
