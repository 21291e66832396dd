import { isAbsolute, resolve } from 'node:path';
import { definePlugin, TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { HttpSink } from './http-sink.js';
import { HttpSinkConfigSchema } from './sink-http-config.js';

/**
 * The @kefu/sink-http plugin: binds one {@link HttpSink} under `TOKENS.Sink`. A relative
 * `deadLetterPath` resolves against the config file's directory.
 *
 * @example
 * ```yaml
 * sinks:
 *   - use: '@kefu/sink-http'
 *     id: crm-webhook
 *     config: { url: 'https://crm.example.com/kefu', secret: '${KEFU_WEBHOOK_SECRET}', deadLetterPath: ./dead-letter.jsonl }
 * ```
 */
export const plugin = definePlugin({
  name: '@kefu/sink-http',
  kind: 'sink',
  configSchema: HttpSinkConfigSchema,
  module(config, context) {
    const deadLetterPath =
      config.deadLetterPath === undefined || isAbsolute(config.deadLetterPath)
        ? config.deadLetterPath
        : resolve(context.baseDir, config.deadLetterPath);
    const sink = new HttpSink({ ...config, id: context.instanceId, deadLetterPath }, { logger: context.logger });
    return new ContainerModule((options) => {
      options.bind(TOKENS.Sink).toConstantValue(sink);
    });
  },
});

export default plugin;
