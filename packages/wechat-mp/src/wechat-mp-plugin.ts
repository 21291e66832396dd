import { boundTokenStore, definePlugin, type KefuClock, type KefuProvider, TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { WechatMpConfigSchema } from './wechat-mp-config.js';
import { WechatMpProvider } from './wechat-mp-provider.js';

/**
 * The plugin descriptor of @kefu/wechat-mp: its module binds one {@link WechatMpProvider}
 * (serving every configured app id) under `TOKENS.Provider`. A token store bound under
 * `TOKENS.TokenStore` (by `createKefu({ modules })` or the parent container) replaces
 * the config's `tokenStore`, so processes on many hosts share one token per app id.
 */
export const plugin = definePlugin({
  name: '@kefu/wechat-mp',
  kind: 'provider',
  configSchema: WechatMpConfigSchema,
  module: (config, context) =>
    new ContainerModule((options) => {
      options
        .bind<KefuProvider>(TOKENS.Provider)
        .toDynamicValue((resolution) => {
          const tokenStore = boundTokenStore(resolution);
          return new WechatMpProvider(config, {
            id: context.instanceId,
            ...(tokenStore ? { tokenStore } : {}),
            httpClients: context.httpClients,
            logger: context.logger,
            baseDir: context.baseDir,
            // The runtime's clock drives token expiry and the 45011 wait (tests bind a fake one).
            ...(context.clock ? { now: () => (context.clock as KefuClock).now() } : {}),
          });
        })
        .inSingletonScope();
    }),
});

/** The descriptor is also the default export, for loaders that import by package name. */
export default plugin;
