/** The critical-path bench's tables, in Markdown: rounds and calls per grant, and cost per million. */
import { costPerMillion, PRICES } from './cost.ts';
import type { GrantPath, PathGrant } from './critical-path.ts';

/** Sequential rounds of AWS calls each grant may take at most; the MFA grants are reported only. */
export const ROUND_TARGETS: Readonly<Partial<Record<PathGrant, number>>> = {
  login: 2,
  'wrong password': 2,
  refresh: 2,
  'first login after a cold start': 3,
  'login, DPoP-bound': 2,
  'refresh, DPoP-bound': 2,
};
export const LOGIN_DYNAMODB_CALLS_TARGET = 5;

const row = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
const header = (cells: readonly string[]) => [row(cells), row(cells.map(() => '---'))];
const ms = (value: number) => `${value.toFixed(1)} ms`;
const dollars = (value: number) => `$${value.toFixed(2)}`;

function operationList(operations: Readonly<Record<string, number>>): string {
  return Object.entries(operations)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([operation, n]) => (n === 1 ? operation : `${operation} ×${n}`))
    .join(', ');
}

export function criticalPathTable(paths: readonly GrantPath[]): string {
  const delay = paths[0]?.delayMs ?? 0;
  return [
    ...header([
      'grant',
      'signing',
      'sequential rounds (target)',
      `timed rounds (Δp50 ÷ ${delay} ms)`,
      'p50, no delay',
      `p50, ${delay} ms per call`,
      'DynamoDB calls',
      'KMS calls',
      'Secrets Manager calls',
      'calls',
    ]),
    ...paths.map((path) =>
      row([
        path.grant,
        path.signing,
        ROUND_TARGETS[path.grant] === undefined
          ? String(path.rounds)
          : `${path.rounds} (≤ ${ROUND_TARGETS[path.grant]})`,
        path.timedRounds.toFixed(1),
        ms(path.p50Ms),
        ms(path.p50DelayedMs),
        path.grant === 'login'
          ? `${path.dynamodbCalls} (≤ ${LOGIN_DYNAMODB_CALLS_TARGET})`
          : path.dynamodbCalls,
        path.kmsCalls,
        path.secretsManagerCalls,
        operationList(path.operations),
      ]),
    ),
  ].join('\n');
}

/** Dollars per million warm logins and refreshes, per signing mode. */
export function costTable(paths: readonly GrantPath[]): string {
  const priced = paths.filter((path) => path.grant === 'login' || path.grant === 'refresh');
  return [
    ...header(['grant', 'signing', 'billed duration', 'Lambda', 'DynamoDB', 'KMS', 'total per million']),
    ...priced.map((path) => {
      const cost = costPerMillion(path);
      return row([
        path.grant,
        path.signing,
        ms(path.p50DelayedMs),
        dollars(cost.lambda),
        dollars(cost.dynamodb),
        dollars(cost.kms),
        dollars(cost.total),
      ]);
    }),
  ].join('\n');
}

export const pricesUsed = [
  `Lambda arm64 $${PRICES.lambdaPerGbSecond} per GB-second and $${PRICES.lambdaPerMillionRequests} per million requests (aws.amazon.com/lambda/pricing)`,
  `DynamoDB on-demand $${PRICES.dynamodbPerMillionReadUnits} per million read units and $${PRICES.dynamodbPerMillionWriteUnits} per million write units (aws.amazon.com/dynamodb/pricing/on-demand)`,
  `KMS $${PRICES.kmsPer10kRequests} per 10,000 requests (aws.amazon.com/kms/pricing)`,
  `Secrets Manager $${PRICES.secretsManagerPer10kCalls} per 10,000 calls, once per cold start (aws.amazon.com/secrets-manager/pricing)`,
].join('; ');
