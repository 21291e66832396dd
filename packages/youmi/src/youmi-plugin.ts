import { definePlugin, type KefuProvider, TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { YoumiConfigSchema } from './youmi-config.js';
import { YoumiProvider } from './youmi-provider.js';

/**
 * The plugin descriptor of @kefu/youmi: its module binds one {@link YoumiProvider}
 * (serving every configured wechatId) under `TOKENS.Provider`.
 *
 * @example
 * ```yaml
 * providers:
 *   - use: "@kefu/youmi"
 *     id: youmi
 *     config: { baseUrl: https://open.example.com, clientId: ym_x, clientSecret: "${YOUMI_SECRET}",
 *               wechatIds: [10001] } # tokenUrl: the documented https://sso.yunshouzhi.net/connect/token
 * ```
 */
export const plugin = definePlugin({
  name: '@kefu/youmi',
  kind: 'provider',
  configSchema: YoumiConfigSchema,
  module: (config, context) =>
    new ContainerModule((options) => {
      options
        .bind<KefuProvider>(TOKENS.Provider)
        .toDynamicValue(
          () =>
            new YoumiProvider(config, {
              id: context.instanceId,
              httpClients: context.httpClients,
              logger: context.logger,
            }),
        )
        .inSingletonScope();
    }),
});

/** The descriptor is also the default export, for loaders that import by package name. */
export default plugin;
