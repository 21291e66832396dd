import { definePlugin, type KefuProvider, TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { WechatMpConfigSchema } from './wechat-mp-config.js';
import { WechatMpProvider } from './wechat-mp-provider.js';

/**
 * The plugin descriptor of @kefu/wechat-mp: its module binds one {@link WechatMpProvider}
 * (serving every configured app id) under `TOKENS.Provider`.
 */
export const plugin = definePlugin({
  name: '@kefu/wechat-mp',
  kind: 'provider',
  configSchema: WechatMpConfigSchema,
  module: (config, context) =>
    new ContainerModule((options) => {
      options
        .bind<KefuProvider>(TOKENS.Provider)
        .toDynamicValue(
          () =>
            new WechatMpProvider(config, {
              id: context.instanceId,
              httpClients: context.httpClients,
              logger: context.logger,
              baseDir: context.baseDir,
            }),
        )
        .inSingletonScope();
    }),
});

/** The descriptor is also the default export, for loaders that import by package name. */
export default plugin;
