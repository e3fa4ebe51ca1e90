import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** 64 characters of [A-Za-z0-9]: about 380 bits, one HMAC-SHA-256 block. */
const KEY_CHARACTERS = 64;

/**
 * The secret of the keyed hash (HMAC-SHA-256) that turns usernames and IP addresses into
 * brute-force counter keys, so that the attempts table holds neither (functions/oauth/protection/brute-force.ts).
 * Secrets Manager generates it at the first deploy, so nobody ever sees or types it; the token
 * function reads it once per cold start and `passgate --stack` reads it to lift blocks. Retained
 * like the tables: a new key would orphan every counter that the old one keyed.
 */
export class CounterHashKey extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: `passgate ${Stack.of(this).stackName}: key of the keyed hash that names brute-force counters`,
      generateSecretString: { passwordLength: KEY_CHARACTERS, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation would buy nothing: the key only hides usernames and IPs in counter keys that live 15 minutes to a day, and a new key would just reset every counter (lifting every active block); no rotation function is needed.',
    });
  }
}
