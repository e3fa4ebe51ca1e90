import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readCounterHashKey } from '../../functions/adapters/secrets/counter-hash-key.ts';
import { AdminError } from '../../functions/admin/user-admin.ts';
import { outputKeys, tableOutputKey } from '../../functions/deployment.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { type TableNames, tables } from '../../functions/store-schema.ts';

/** What `passgate --stack NAME` works with in a deployed stack. */
export interface DeployedStack {
  readonly tableNames: TableNames;
  /** ARN of the secret keying the brute-force counters. */
  readonly counterKeySecretArn: string;
  /** The deployment's issuer: the base of links in mails (`users resend-verification`). */
  readonly issuer: string;
}

/**
 * `--stack NAME` (docs/reference.md, "CLI"): the deployed stack's tables and counter-key secret, from the
 * outputs the stack writes (`UsersTableName`, …, `CounterKeySecretArn`). Credentials and region
 * come from the usual AWS sources (AWS_PROFILE, AWS_REGION, ~/.aws).
 */
export async function describeDeployedStack(
  stackName: string,
  client: CloudFormationClient = new CloudFormationClient({}),
): Promise<DeployedStack> {
  let stack: DescribeStacksCommandOutput['Stacks'];
  try {
    ({ Stacks: stack } = await client.send(new DescribeStacksCommand({ StackName: stackName })));
  } catch (error) {
    const { name, message } = error as Error;
    if (name === 'ValidationError') throw new AdminError(`stack "${stackName}": ${message}`);
    throw new AdminError(`cannot read stack "${stackName}" from CloudFormation: ${message}`);
  } finally {
    client.destroy();
  }
  const outputs = new Map(
    (stack?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
  );
  const missing = [
    ...tables.map((table) => tableOutputKey(table.id)),
    outputKeys.counterKeySecretArn,
    outputKeys.issuer,
  ].filter((key) => !outputs.get(key));
  if (missing.length > 0) {
    throw new AdminError(
      `stack "${stackName}" has no output ${missing.join(', ')}: is it a passgate stack, deployed by this version?`,
    );
  }
  return {
    tableNames: Object.fromEntries(
      tables.map((table) => [table.id, outputs.get(tableOutputKey(table.id)) as string]),
    ) as TableNames,
    counterKeySecretArn: outputs.get(outputKeys.counterKeySecretArn) as string,
    issuer: outputs.get(outputKeys.issuer) as string,
  };
}

/**
 * The key of the brute-force counters in a deployed stack, derived exactly as the token function
 * derives it (functions/adapters/secrets/counter-hash-key.ts), so `users unblock` and
 * `set-password` find the counters that the function wrote. Needs `secretsmanager:GetSecretValue`
 * on that secret; only those two commands ask for it.
 */
export async function counterHashKeyOfStack(
  stackName: string,
  deployed: DeployedStack,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): Promise<Uint8Array> {
  try {
    return await readCounterHashKey(client, deployed.counterKeySecretArn);
  } catch (error) {
    const cause = error instanceof DependencyUnavailableError ? (error.cause as Error) : (error as Error);
    throw new AdminError(
      `stack "${stackName}": cannot read the brute-force counter key from Secrets Manager: ${cause.message}`,
    );
  } finally {
    client.destroy();
  }
}
