import { validatePluginConfig } from '@kefu/core';
import { FileSink, parseFileSinkConfig, plugin } from '@kefu/sink-file';
import { describe, expect, it } from 'vitest';

describe('file sink config: unknown keys are errors', () => {
  it('given `gzipp`, when parsed, then SINK_FILE_CONFIG_INVALID names the key and suggests `gzip`', () => {
    expect(() => parseFileSinkConfig({ dir: '/tmp/kefu-out', gzipp: true })).toThrow(
      expect.objectContaining({
        code: 'SINK_FILE_CONFIG_INVALID',
        message: expect.stringContaining('unknown key `gzipp` (did you mean `gzip`?)'),
      }),
    );
  });

  it('given `fileMod` passed to the constructor, when constructed, then it is refused rather than writing 0640 files', () => {
    expect(() => new FileSink({ dir: '/tmp/kefu-out', fileMod: 0o600 } as never)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('(did you mean `fileMode`?)') }),
    );
  });

  it('given `timezone`, when loaded as a plugin, then KEFU_CONFIG_INVALID suggests `timeZone`', () => {
    expect(() => validatePluginConfig(plugin, { dir: './out', timezone: 'Asia/Shanghai' }, 'sinks[0] (file)')).toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: expect.stringContaining('config.timezone: unknown key `timezone` (did you mean `timeZone`?)'),
      }),
    );
  });
});
