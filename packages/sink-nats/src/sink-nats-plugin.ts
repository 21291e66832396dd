import { definePlugin, TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { NatsJetStreamSink } from './nats-jetstream-sink.js';
import { NatsSinkConfigSchema } from './sink-nats-config.js';

/**
 * The @kefu/sink-nats plugin: binds one {@link NatsJetStreamSink} under `TOKENS.Sink`.
 *
 * @example
 * ```yaml
 * sinks:
 *   - use: '@kefu/sink-nats'
 *     id: broker
 *     config: { servers: 'nats://127.0.0.1:4222', stream: KEFU_RECORDS, subjectPrefix: kefu }
 * ```
 */
export const plugin = definePlugin({
  name: '@kefu/sink-nats',
  kind: 'sink',
  configSchema: NatsSinkConfigSchema,
  module(config, context) {
    return new ContainerModule((options) => {
      options
        .bind(TOKENS.Sink)
        .toDynamicValue(() => new NatsJetStreamSink({ ...config, id: context.instanceId }))
        .inSingletonScope();
    });
  },
});

/** The descriptor is also the default export, for loaders that import by package name. */
export default plugin;
