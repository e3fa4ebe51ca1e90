import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
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

/**
 * The `kms-wrapped` signing mode: one symmetric KMS key that encrypts the private half of every
 * RSA key pair KMS generates for signing (GenerateDataKeyPairWithoutPlaintext). The pairs live in
 * the signing-keys table, keyed by the same names as the asymmetric keys of the `kms` mode, so
 * rotation is the same list of names (docs/operating.md). Each ciphertext is bound to its key name
 * by the encryption context, which the grants below require.
 */
export class WrappedSigningKeys extends Construct {
  readonly wrappingKey: Key;
  readonly names: readonly string[];

  constructor(scope: Construct, id: string, props: SigningKeysProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    this.names = [props.current, ...props.verification];
    this.wrappingKey = new Key(this, 'WrappingKey', {
      alias: `alias/${stackName}/signing-key-wrapping`,
      description: `passgate ${stackName}: encrypts the private halves of the token signing keys`,
      enableKeyRotation: true,
      // Every stored signing key is encrypted under it: losing it loses them all.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * What a function that signs (`sign`) or publishes public keys (`verify`) needs: read the pairs
   * and generate a missing one; only signers decrypt, and only the keys of these names.
   */
  grant(grantee: IGrantable, roles: readonly ('sign' | 'verify')[], table: ITable): void {
    if (roles.length === 0) return;
    const context = { 'kms:EncryptionContext:passgate:signing-key': [...this.names] };
    const statements = [
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [table.tableArn],
      }),
      new PolicyStatement({
        actions: ['kms:GenerateDataKeyPairWithoutPlaintext'],
        resources: [this.wrappingKey.keyArn],
        conditions: {
          StringEquals: { 'kms:DataKeyPairSpec': 'RSA_2048' },
          'ForAnyValue:StringEquals': context,
        },
      }),
      ...(roles.includes('sign')
        ? [
            new PolicyStatement({
              actions: ['kms:Decrypt'],
              resources: [this.wrappingKey.keyArn],
              conditions: { 'ForAnyValue:StringEquals': context },
            }),
          ]
        : []),
    ];
    for (const statement of statements) grantee.grantPrincipal.addToPrincipalPolicy(statement);
  }
}
