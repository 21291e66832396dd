/**
 * @kefu/wechat-mp — the WeChat Official Account customer-service provider: the provider and
 * its plugin, the typed client, the config schema, the error catalogue, token manager and
 * stores, the push receiver and the push helpers for a server of your own.
 *
 * The platform's wire formats (request/answer schemas, the lenient JSON reader, the raw-record
 * normalizer and identities) are an opt-in subpath, `@kefu/wechat-mp/wire`: they follow the
 * platform and are not part of this entry's promise.
 *
 * `export type *` lines add the types these values take and return, and no runtime name.
 */
export type * from './errors.js';
export { wechatMpErrorCatalogue } from './errors.js';
export type * from './media-download.js';
export { downloadWechatMedia } from './media-download.js';
export type * from './msglist-cursor.js';
export type * from './push-messages.js';
export { normalizePush, pushDedupeKey, readPushXml } from './push-messages.js';
export type * from './push-receiver.js';
export { WechatPushReceiver } from './push-receiver.js';
export type * from './record-normalizer.js';
export type * from './record-pages.js';
export type * from './token-manager.js';
export { TokenManager } from './token-manager.js';
export type * from './token-stores.js';
export { FileTokenStore, MemoryTokenStore } from './token-stores.js';
export type * from './wechat-mp-client.js';
export { WechatMpClient } from './wechat-mp-client.js';
export type * from './wechat-mp-config.js';
export { parseWechatMpConfig, WechatMpConfigSchema } from './wechat-mp-config.js';
export { plugin, plugin as default } from './wechat-mp-plugin.js';
export type * from './wechat-mp-provider.js';
export { WechatMpProvider } from './wechat-mp-provider.js';
export type * from './wechat-mp-schemas.js';
