import { isKefuError, type KefuError } from '@kefu/core';

/**
 * The KefuError `promise` rejects with. The same helper as @kefu/testkit's `kefuFailure`:
 * core's tests cannot import the testkit, which depends on core.
 */
export async function failure(promise: Promise<unknown>): Promise<KefuError> {
  try {
    await promise;
  } catch (error) {
    if (isKefuError(error)) return error;
    throw error;
  }
  throw new Error('expected a KefuError, but the promise resolved');
}
