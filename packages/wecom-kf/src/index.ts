/**
 * @kefu/wecom-kf — the WeCom customer-service (企业微信 · 微信客服) provider: the provider and
 * its plugin, the typed kf client, the config schema, the error catalogue, the token manager,
 * the callback receiver, and media download.
 *
 * The platform's wire formats (request/answer schemas, the msg_list normalizer, the sync_msg
 * page source and its position) are an opt-in subpath, `@kefu/wecom-kf/wire`: they follow the
 * platform and are not part of this entry's promise.
 *
 * `export type *` lines add the types these values take and return, and no runtime name.
 */
export type * from './callback-receiver.js';
export { WecomKfCallbackReceiver } from './callback-receiver.js';
export type * from './errors.js';
export { wecomKfErrorCatalogue } from './errors.js';
export type * from './media-download.js';
export { downloadWecomMedia } from './media-download.js';
export type * from './record-normalizer.js';
export type * from './sent-records.js';
export type * from './sync-msg-pages.js';
export { CallbackTokens } from './sync-msg-pages.js';
export type * from './token-manager.js';
export { WecomTokenManager, wecomTokenKey } from './token-manager.js';
export type * from './wecom-kf-client.js';
export { WecomKfClient } from './wecom-kf-client.js';
export type * from './wecom-kf-config.js';
export { parseWecomKfConfig, WecomKfConfigSchema } from './wecom-kf-config.js';
export { plugin, plugin as default } from './wecom-kf-plugin.js';
export type * from './wecom-kf-provider.js';
export { WecomKfProvider } from './wecom-kf-provider.js';
export type * from './wecom-kf-schemas.js';
