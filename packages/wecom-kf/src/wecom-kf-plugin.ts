import { boundTokenStore, definePlugin, type KefuClock, type KefuProvider, TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { WecomKfConfigSchema } from './wecom-kf-config.js';
import { WecomKfProvider } from './wecom-kf-provider.js';

/**
 * The plugin descriptor of @kefu/wecom-kf: its module binds one {@link WecomKfProvider} (one
 * WeCom app and its customer-service accounts) under `TOKENS.Provider`. A token store bound
 * under `TOKENS.TokenStore` (Redis, …) replaces the config's `tokenStore`, so processes on
 * many hosts share one token per corp id.
 */
export const plugin = definePlugin({
  name: '@kefu/wecom-kf',
  kind: 'provider',
  configSchema: WecomKfConfigSchema,
  module: (config, context) =>
    new ContainerModule((options) => {
      options
        .bind<KefuProvider>(TOKENS.Provider)
        .toDynamicValue((resolution) => {
          const tokenStore = boundTokenStore(resolution);
          return new WecomKfProvider(config, {
            id: context.instanceId,
            ...(tokenStore ? { tokenStore } : {}),
            baseDir: context.baseDir,
            httpClients: context.httpClients,
            logger: context.logger,
            // The runtime's clock drives token expiry, callback-token age and the retention check.
            ...(context.clock ? { now: () => (context.clock as KefuClock).now() } : {}),
          });
        })
        .inSingletonScope();
    }),
});

/** The descriptor is also the default export, for loaders that import by package name. */
export default plugin;
