import { TOKENS } from '@kefu/core';
import { ContainerModule } from 'inversify';
import { RedisTokenStore } from './redis-token-store.js';
import { parseRedisTokenStoreConfig, type RedisTokenStoreConfigInput } from './token-store-redis-config.js';

/**
 * The DI module of @kefu/token-store-redis: binds one {@link RedisTokenStore} under
 * `TOKENS.TokenStore`, so every WeChat provider of the runtime shares its tokens through
 * Redis; the runtime's `close()` closes the store. The config is checked here, before
 * anything connects (TOKEN_STORE_REDIS_CONFIG_INVALID names the field).
 *
 * @example
 * ```ts
 * const kefu = await createKefu({
 *   providers: [{ use: '@kefu/wechat-mp', config: { accounts: [{ appId: 'wx…', secret: process.env.WX_SECRET }] } }],
 *   modules: [redisTokenStoreModule({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })],
 * });
 * ```
 */
export function redisTokenStoreModule(config: RedisTokenStoreConfigInput): ContainerModule {
  const parsed = parseRedisTokenStoreConfig(config);
  return new ContainerModule(({ bind }) => {
    bind<RedisTokenStore>(TOKENS.TokenStore)
      .toDynamicValue(() => new RedisTokenStore(parsed))
      .inSingletonScope()
      .onDeactivation((store) => store.close());
  });
}
