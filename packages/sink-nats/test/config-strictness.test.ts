import { validatePluginConfig } from '@kefu/core';
import { parseNatsSinkConfig, plugin } from '@kefu/sink-nats';
import { describe, expect, it } from 'vitest';

describe('nats sink config: unknown keys are errors', () => {
  it('given `subjectPrefx`, when parsed, then SINK_NATS_CONFIG_INVALID names the key and suggests `subjectPrefix`', () => {
    expect(() => parseNatsSinkConfig({ subjectPrefx: 'crm' })).toThrow(
      expect.objectContaining({
        code: 'SINK_NATS_CONFIG_INVALID',
        message: expect.stringContaining('unknown key `subjectPrefx` (did you mean `subjectPrefix`?)'),
      }),
    );
  });

  it('given `server` instead of `servers`, when loaded as a plugin, then KEFU_CONFIG_INVALID suggests `servers`', () => {
    expect(() => validatePluginConfig(plugin, { server: 'nats://10.0.0.1:4222' }, 'sinks[2] (nats)')).toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: expect.stringContaining('config.server: unknown key `server` (did you mean `servers`?)'),
      }),
    );
  });
});
