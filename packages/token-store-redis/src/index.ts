export * from './errors.js';
export * from './redis-token-store.js';
export * from './token-store-redis-config.js';
export { redisTokenStoreModule } from './token-store-redis-plugin.js';
