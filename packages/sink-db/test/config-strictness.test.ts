import { validatePluginConfig } from '@kefu/core';
import { DatabaseSink, plugin } from '@kefu/sink-db';
import { describe, expect, it } from 'vitest';

describe('database sink config: unknown keys are errors', () => {
  it('given `tabel`, when the sink is constructed, then SINK_DB_CONFIG_INVALID names the key and suggests `table`', () => {
    expect(() => new DatabaseSink({ url: ':memory:', tabel: 'records' } as never)).toThrow(
      expect.objectContaining({
        code: 'SINK_DB_CONFIG_INVALID',
        message: expect.stringContaining('unknown key `tabel` (did you mean `table`?)'),
      }),
    );
  });

  it('given `checkpointTabel`, when loaded as a plugin, then KEFU_CONFIG_INVALID suggests `checkpointTable`', () => {
    expect(() => validatePluginConfig(plugin, { url: './kefu.db', checkpointTabel: 'cp' }, 'sinks[0] (db)')).toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: expect.stringContaining(
          'config.checkpointTabel: unknown key `checkpointTabel` (did you mean `checkpointTable`?)',
        ),
      }),
    );
  });
});
