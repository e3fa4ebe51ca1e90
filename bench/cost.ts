/**
 * What a million grants cost in AWS, from the calls the critical-path bench counted and the
 * durations it measured. Prices are us-east-1 list prices, each with the page it comes from;
 * check them against your Region before relying on them.
 */
import { endpointNeeds } from '../functions/endpoint-needs.ts';
import type { GrantPath } from './critical-path.ts';

export const PRICES = {
  /** https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-seconds a month). */
  lambdaPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  /** https://aws.amazon.com/dynamodb/pricing/on-demand/ */
  dynamodbPerMillionReadUnits: 0.125,
  dynamodbPerMillionWriteUnits: 0.625,
  /** https://aws.amazon.com/kms/pricing/: symmetric and RSA_2048 requests alike. */
  kmsPer10kRequests: 0.03,
  /** https://aws.amazon.com/secrets-manager/pricing/ */
  secretsManagerPer10kCalls: 0.05,
} as const;

/** The token function's memory as the stack sizes it. */
const TOKEN_FUNCTION_MEMORY_MB = endpointNeeds.token.memoryMiB;

/**
 * Request units per item of each DynamoDB operation the grants make, for items under 1 KB: a
 * strongly consistent read is 1 read unit (also each key of a BatchGetItem), a Query of a small
 * index page ½ (index reads are eventually consistent), a write 1 write unit, and each write of a
 * transaction 2. A write that also changes an index entry costs one more write unit per index;
 * these are not counted here.
 */
const READ_UNITS: Readonly<Record<string, number>> = { GetItem: 1, BatchGetItem: 1, Query: 0.5 };
const WRITE_UNITS: Readonly<Record<string, number>> = {
  PutItem: 1,
  UpdateItem: 1,
  DeleteItem: 1,
  TransactWriteItems: 2,
};

export interface GrantCost {
  readonly lambda: number;
  readonly dynamodb: number;
  readonly kms: number;
  readonly total: number;
}

/** Dollars per million grants of `path`, billed at its duration with the injected delay. */
export function costPerMillion(path: GrantPath): GrantCost {
  const units = (table: Readonly<Record<string, number>>) =>
    Object.entries(path.items).reduce((sum, [operation, n]) => sum + (table[operation] ?? 0) * n, 0);
  const gbSeconds = (TOKEN_FUNCTION_MEMORY_MB / 1024) * (path.p50DelayedMs / 1000);
  const lambda = PRICES.lambdaPerMillionRequests + 1e6 * gbSeconds * PRICES.lambdaPerGbSecond;
  const dynamodb =
    units(READ_UNITS) * PRICES.dynamodbPerMillionReadUnits +
    units(WRITE_UNITS) * PRICES.dynamodbPerMillionWriteUnits;
  const kms = path.kmsCalls * PRICES.kmsPer10kRequests * 100;
  return { lambda, dynamodb, kms, total: lambda + dynamodb + kms };
}
