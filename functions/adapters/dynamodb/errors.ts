import { DependencyUnavailableError } from '../../oauth/errors.ts';

interface SdkError {
  name?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  code?: string;
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  // A single-item write to an item a transaction holds (a sign-in's, sign-in-store.ts) is turned
  // away while it runs: contention, retried by the client like throttling.
  'TransactionConflictException',
]);

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as SdkError)?.name === 'ConditionalCheckFailedException';
}

/**
 * SDK errors become domain errors at the edge: throttling, server faults, timeouts and network
 * failures mean DynamoDB is unavailable (503); anything else is a bug and stays as it is (500).
 */
export function translateDynamoError(error: unknown, operation: string): unknown {
  const sdk = error as SdkError;
  const transient =
    THROTTLING.has(sdk?.name ?? '') ||
    sdk?.$fault === 'server' ||
    sdk?.name === 'TimeoutError' ||
    sdk?.name === 'AbortError' ||
    (sdk?.$metadata?.httpStatusCode === undefined && typeof sdk?.code === 'string'); // ECONNRESET and kin
  return transient ? new DependencyUnavailableError('dynamodb', operation, error) : error;
}

/**
 * Lost races on one item, past a store's rounds of re-reading: contention, reported as the
 * throttling it is (503), so the client retries.
 */
export function contentionError(operation: string, what: string): unknown {
  return translateDynamoError(
    Object.assign(new Error(`${what} contention`), { name: 'ThrottlingException' }),
    operation,
  );
}

/** Runs one DynamoDB call, translating its failure with translateDynamoError. */
export async function dynamoCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translateDynamoError(error, operation);
  }
}

/** Runs one conditional write: true when it was written, false when its condition failed. */
export async function conditionalWrite(operation: string, run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw translateDynamoError(error, operation);
  }
}
