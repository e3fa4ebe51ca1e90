import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The symmetric KMS key that seals users' TOTP secrets (functions/adapters/sealing/kms-sealer.ts).
 * Retained like the tables: deleting it would make every enrolled authenticator unreadable, and
 * locking every user of an MFA realm out. Rotated yearly by KMS, which keeps the older key
 * material to decrypt what it sealed, so nothing needs re-sealing.
 */
export class MfaKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: `passgate ${Stack.of(this).stackName}: seals MFA (TOTP) secrets`,
      keySpec: KeySpec.SYMMETRIC_DEFAULT,
      keyUsage: KeyUsage.ENCRYPT_DECRYPT,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
