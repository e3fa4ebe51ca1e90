/**
 * Like `Promise.all`, but it waits for every promise before it throws the first failure. A request
 * must not answer while one of its writes is still in flight: the write would land after the 503,
 * or on Lambda at the next thaw, and the state the answer describes would not be the state stored.
 */
export async function allLanded<const T extends readonly unknown[]>(
  promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
