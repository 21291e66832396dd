import { validatePluginConfig } from '@kefu/core';
import { parseYoumiConfig, plugin } from '@kefu/youmi';
import { describe, expect, it } from 'vitest';

const valid = {
  baseUrl: 'http://127.0.0.1:1',
  tokenUrl: 'http://127.0.0.1:1/token',
  clientId: 'client',
  clientSecret: 'client-secret-value',
  wechatIds: [10001],
};

describe('youmi config: unknown keys are errors', () => {
  it('given `clientSecert`, when parsed, then YOUMI_CONFIG_INVALID names the key and suggests `clientSecret`', () => {
    const { clientSecret, ...rest } = valid;
    expect(() => parseYoumiConfig({ ...rest, clientSecert: clientSecret })).toThrow(
      expect.objectContaining({
        code: 'YOUMI_CONFIG_INVALID',
        message: expect.stringContaining('unknown key `clientSecert` (did you mean `clientSecret`?)'),
      }),
    );
  });

  it('given a typo in `retry`, when loaded as a plugin, then KEFU_CONFIG_INVALID names it with its nearest key', () => {
    expect(() => validatePluginConfig(plugin, { ...valid, retry: { maxAttempt: 3 } }, 'providers[1] (youmi)')).toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: expect.stringContaining(
          'config.retry.maxAttempt: unknown key `maxAttempt` (did you mean `maxAttempts`?)',
        ),
      }),
    );
  });
});
