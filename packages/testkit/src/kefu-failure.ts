import { isKefuError, type KefuError } from '@kefu/core';

/**
 * The KefuError `promise` rejects with, for assertions on its code, message and details.
 * Throws when the promise resolves (the test expected a failure) or rejects with anything
 * but a KefuError (that error is rethrown as it is, so the test shows it).
 *
 * @example
 * ```ts
 * const error = await kefuFailure(createKefu({ sinks: [{ use: 'nope' }] }));
 * expect(error.code).toBe('KEFU_PLUGIN_NOT_FOUND');
 * ```
 */
export async function kefuFailure(promise: Promise<unknown>): Promise<KefuError> {
  try {
    await promise;
  } catch (error) {
    if (isKefuError(error)) return error;
    throw error;
  }
  throw new Error('expected a KefuError, but the promise resolved');
}
