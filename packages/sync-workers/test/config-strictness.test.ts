import { parseSyncWorkerSettings } from '@kefu/sync-workers';
import { describe, expect, it } from 'vitest';

describe('sync worker settings: unknown keys are errors', () => {
  it('given `heartbeatSecond`, when parsed, then WORKERS_CONFIG_INVALID names the key and suggests `heartbeatSeconds`', () => {
    expect(() => parseSyncWorkerSettings({ job: 'hourly', heartbeatSecond: 30 })).toThrow(
      expect.objectContaining({
        code: 'WORKERS_CONFIG_INVALID',
        message: expect.stringContaining('unknown key `heartbeatSecond` (did you mean `heartbeatSeconds`?)'),
        details: expect.objectContaining({
          issues: ['`heartbeatSecond`: unknown key `heartbeatSecond` (did you mean `heartbeatSeconds`?)'],
        }),
      }),
    );
  });
});
