import { definePlugin, TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { DatabaseSink } from './database-sink.js';
import { DatabaseSinkConfigSchema } from './database-sink-config.js';

/**
 * The plugin descriptor of @kefu/sink-db: binds one {@link DatabaseSink} under `TOKENS.Sink`.
 * The same instance can serve as the runtime's checkpoint store
 * (`checkpoints: { use: 'sink', sink: '<id>' }`), which makes the sync exactly-once.
 */
export const plugin = definePlugin({
  name: '@kefu/sink-db',
  kind: 'sink',
  configSchema: DatabaseSinkConfigSchema,
  module(config, context) {
    const sink = new DatabaseSink({
      ...config,
      id: context.instanceId,
      baseDir: context.baseDir,
      logger: context.logger,
    });
    return new ContainerModule((options) => {
      options.bind(TOKENS.Sink).toConstantValue(sink);
    });
  },
});
