import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/token-store-redis',
    load: () => import('@kefu/token-store-redis'),
    names: [
      'RedisTokenStore',
      'RedisTokenStoreConfigSchema',
      'RedisTokenStoreTuningSchema',
      'parseRedisTokenStoreConfig',
      'parseRedisTokenStoreTuning',
      'redisTokenStoreError',
      'redisTokenStoreErrorCatalogue',
      'redisTokenStoreModule',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
