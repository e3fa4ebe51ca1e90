import {
  type AwsJsonAnswer,
  type AwsJsonCall,
  type AwsJsonDouble,
  awsError,
  startAwsJsonDouble,
} from './aws-json-double.ts';

/** A secret as the stack's `generateSecretString` makes it: 64 characters, no punctuation. */
export const TEST_COUNTER_KEY_SECRET = 'Zq7rT2mW9xK4vN8bL3cH6jP1sD5fG0aYuE2iO7pR4tQ9wM3nB8vC6xZ1kJ5hF0gA';

export const testSecretArn = (name = 'PassgateCounterHashKey') =>
  `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}-AbCdEf`;

export interface SecretsManagerDouble extends AwsJsonDouble {
  /** While set, every call fails with this AWS error type (`Internal…` ones with 500, others 400). */
  failWith: string | undefined;
}

function getSecretValue(
  secrets: Readonly<Record<string, string>>,
  { target, body }: AwsJsonCall,
  failWith: string | undefined,
): AwsJsonAnswer {
  if (failWith)
    return awsError(failWith.startsWith('Internal') ? 500 : 400, failWith, `injected ${failWith}`);
  if (target !== 'secretsmanager.GetSecretValue') return awsError(400, 'UnknownOperationException', target);
  const secretString = body.SecretId === undefined ? undefined : secrets[body.SecretId];
  if (secretString === undefined) {
    return awsError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }
  return {
    status: 200,
    document: {
      ARN: body.SecretId,
      Name: body.SecretId?.split(':').at(-1),
      SecretString: secretString,
      VersionId: '00000000-0000-0000-0000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_795_000_000,
    },
  };
}

/** Secrets Manager on loopback: `secretsmanager.GetSecretValue` over the AWS JSON 1.1 protocol. */
export async function startSecretsManagerDouble(
  secrets: Readonly<Record<string, string>>,
): Promise<SecretsManagerDouble> {
  const double: SecretsManagerDouble = Object.assign(
    await startAwsJsonDouble((call) => getSecretValue(secrets, call, double.failWith)),
    { failWith: undefined },
  );
  return double;
}
