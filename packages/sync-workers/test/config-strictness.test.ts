import { parseSyncWorkerSettings } from '@kefu/sync-workers';
import { describe, expect, it } from 'vitest';

describe('sync worker settings: unknown keys are errors', () => {
  it('given `leaseSecond`, when parsed, then WORKERS_CONFIG_INVALID names the key and suggests `leaseSeconds`', () => {
    expect(() => parseSyncWorkerSettings({ job: 'hourly', leaseSecond: 30 })).toThrow(
      expect.objectContaining({
        code: 'WORKERS_CONFIG_INVALID',
        message: expect.stringContaining('unknown key `leaseSecond` (did you mean `leaseSeconds`?)'),
        details: expect.objectContaining({
          issues: ['`leaseSecond`: unknown key `leaseSecond` (did you mean `leaseSeconds`?)'],
        }),
      }),
    );
  });
});
