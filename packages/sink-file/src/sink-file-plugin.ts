import { isAbsolute, resolve } from 'node:path';
import { definePlugin, TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { FileSink } from './file-sink.js';
import { FileSinkConfigSchema } from './sink-file-config.js';

/**
 * The @kefu/sink-file plugin: binds one {@link FileSink} under `TOKENS.Sink`. A relative
 * `dir` resolves against the config file's directory.
 *
 * @example
 * ```yaml
 * sinks:
 *   - use: '@kefu/sink-file'
 *     id: archive
 *     config: { dir: ./archive, format: jsonl, gzip: true, maxBytes: 104857600 }
 * ```
 */
export const plugin = definePlugin({
  name: '@kefu/sink-file',
  kind: 'sink',
  configSchema: FileSinkConfigSchema,
  module(config, context) {
    const dir = isAbsolute(config.dir) ? config.dir : resolve(context.baseDir, config.dir);
    const sink = new FileSink({ ...config, id: context.instanceId, dir }, { logger: context.logger });
    return new ContainerModule((options) => {
      options.bind(TOKENS.Sink).toConstantValue(sink);
    });
  },
});

export default plugin;
