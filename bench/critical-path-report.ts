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

/** One signing mode's cold start, as section 4 measured it. */
export interface ColdStartRatio {
  readonly signing: GrantPath['signing'];
  readonly ratio: number;
}

/**
 * The README's few figures: the sequential rounds of a login, a failed one, a refresh and a cold
 * start's first login, a login's and a refresh's p50 with the delay on every AWS call and their
 * cost per million, and the cold start, per signing mode.
 */
export function summaryTable(
  paths: readonly GrantPath[],
  coldStarts: readonly ColdStartRatio[],
  coldStartTarget: number,
): string {
  const modes = [...new Set(paths.map((path) => path.signing))];
  const delay = paths[0]?.delayMs ?? 0;
  const of = (grant: PathGrant, signing: string) =>
    paths.find((path) => path.grant === grant && path.signing === signing);
  const grants: readonly PathGrant[] = [
    'login',
    'wrong password',
    'refresh',
    'first login after a cold start',
  ];
  const target = (value: number | undefined, unit = '') => (value === undefined ? '' : `≤ ${value}${unit}`);
  return [
    ...header(['', ...modes.map((mode) => `\`${mode}\``), 'target']),
    ...grants.map((grant) =>
      row([
        `${grant}: sequential rounds of AWS calls`,
        ...modes.map((mode) => of(grant, mode)?.rounds ?? ''),
        target(ROUND_TARGETS[grant]),
      ]),
    ),
    ...(['login', 'refresh'] as const).flatMap((grant) => [
      row([
        `${grant}: p50 with ${delay} ms per AWS call`,
        ...modes.map((mode) => ms(of(grant, mode)?.p50DelayedMs ?? Number.NaN)),
        '',
      ]),
      row([
        `${grant}: AWS cost per million`,
        ...modes.map((mode) => {
          const path = of(grant, mode);
          return path ? dollars(costPerMillion(path).total) : '';
        }),
        '',
      ]),
    ]),
    row([
      'cold start ÷ empty handler',
      ...modes.map((mode) => {
        const cold = coldStarts.find((entry) => entry.signing === mode);
        return cold ? `${cold.ratio.toFixed(2)}×` : '';
      }),
      target(coldStartTarget, '×'),
    ]),
  ].join('\n');
}
