/**
 * @kefu/wecom-kf — the WeCom customer-service (企业微信 · 微信客服) provider: gettoken through
 * the shared token manager, a typed kf client, sync_msg record streams with one cursor per
 * account, the kf_msg_or_event callback receiver, media, plugin.
 */
export * from './callback-receiver.js';
export * from './errors.js';
export * from './media-download.js';
export * from './record-normalizer.js';
export * from './sent-records.js';
export * from './sync-msg-pages.js';
export * from './token-manager.js';
export * from './wecom-kf-client.js';
export * from './wecom-kf-config.js';
export { plugin, plugin as default } from './wecom-kf-plugin.js';
export * from './wecom-kf-provider.js';
export * from './wecom-kf-schemas.js';
