import { validatePluginConfig } from '@kefu/core';
import { parseHttpSinkConfig, plugin } from '@kefu/sink-http';
import { describe, expect, it } from 'vitest';

const valid = {
  url: 'http://127.0.0.1:1/hook',
  secret: 'a-webhook-secret-of-32-characters',
  onPermanentFailure: 'fail',
};

describe('http sink config: unknown keys are errors', () => {
  it('given `deadLeterPath`, when parsed, then SINK_HTTP_CONFIG_INVALID names the key and suggests `deadLetterPath`', () => {
    expect(() => parseHttpSinkConfig({ ...valid, deadLeterPath: './dead.jsonl' })).toThrow(
      expect.objectContaining({
        code: 'SINK_HTTP_CONFIG_INVALID',
        message: expect.stringContaining('unknown key `deadLeterPath` (did you mean `deadLetterPath`?)'),
      }),
    );
  });

  it('given a typo inside `timeouts`, when loaded as a plugin, then KEFU_CONFIG_INVALID names it with its nearest key', () => {
    expect(() => validatePluginConfig(plugin, { ...valid, timeouts: { responseMS: 5000 } }, 'sinks[1] (http)')).toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: expect.stringContaining(
          'config.timeouts.responseMS: unknown key `responseMS` (did you mean `responseMs`?)',
        ),
      }),
    );
  });
});
