import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { AdminError } from '../../functions/admin/user-admin.ts';
import { tableOutputKey } from '../../functions/deployment.ts';
import { type TableNames, tables } from '../../functions/store-schema.ts';

/**
 * `--stack NAME` (CONTRACT §5): the deployed stack's table names, from the outputs the stack
 * writes (`UsersTableName`, …). Credentials and region come from the usual AWS sources
 * (AWS_PROFILE, AWS_REGION, ~/.aws).
 */
export async function tableNamesFromStack(
  stackName: string,
  client: CloudFormationClient = new CloudFormationClient({}),
): Promise<TableNames> {
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
  const missing = tables.map((table) => tableOutputKey(table.id)).filter((key) => !outputs.get(key));
  if (missing.length > 0) {
    throw new AdminError(
      `stack "${stackName}" has no output ${missing.join(', ')}: is it a passgate stack, deployed by this version?`,
    );
  }
  return Object.fromEntries(
    tables.map((table) => [table.id, outputs.get(tableOutputKey(table.id)) as string]),
  ) as TableNames;
}

/**
 * The secret of the brute-force counters' keyed hash in a deployed stack. Integration pending:
 * the stack does not hold this secret yet.
 */
export async function counterHashKeyFromStack(stackName: string): Promise<Uint8Array> {
  throw new AdminError(
    `stack "${stackName}": this version cannot read the counter key of a deployed stack yet`,
  );
}
