import { coreError } from '@kefu/core';
import { kefuFailure } from '@kefu/testkit';
import { describe, expect, it } from 'vitest';

describe('kefuFailure', () => {
  it('gives the KefuError a promise rejects with', async () => {
    const error = await kefuFailure(Promise.reject(coreError('KEFU_SINK_CLOSED', 'sink s is closed')));
    expect(error.code).toBe('KEFU_SINK_CLOSED');
  });

  it('fails when the promise resolves, and rethrows any other error', async () => {
    await expect(kefuFailure(Promise.resolve(1))).rejects.toThrow('expected a KefuError');
    await expect(kefuFailure(Promise.reject(new TypeError('plain')))).rejects.toThrow(TypeError);
  });
});
