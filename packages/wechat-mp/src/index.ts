/**
 * @kefu/wechat-mp — the WeChat Official Account customer-service provider: token
 * manager and stores, typed client, record streams, normalized records, pushes, plugin.
 */
export * from './errors.js';
export * from './media-download.js';
export * from './msglist-cursor.js';
export { parsePlatformJson, repairPlatformJson } from './platform-json.js';
export * from './push-messages.js';
export * from './push-receiver.js';
export * from './record-normalizer.js';
export * from './record-pages.js';
export * from './token-manager.js';
export * from './token-stores.js';
export * from './wechat-mp-client.js';
export * from './wechat-mp-config.js';
export { plugin, plugin as default } from './wechat-mp-plugin.js';
export * from './wechat-mp-provider.js';
export * from './wechat-mp-schemas.js';
