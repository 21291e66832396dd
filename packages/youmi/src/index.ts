/**
 * @kefu/youmi: the Youmi (友米聚合) open-API provider for kefu: OAuth2 / HMAC auth, a typed
 * client for every v2 call, resumable record streams of operating accounts, and a
 * callback receiver whose chat events merge with the backfill without duplicates.
 */
export * from './beijing-time.js';
export * from './callback-receiver.js';
export * from './chat-normalizer.js';
export * from './errors.js';
export * from './record-pages.js';
export * from './youmi-auth.js';
export * from './youmi-client.js';
export * from './youmi-config.js';
export * from './youmi-envelope.js';
export { default, plugin } from './youmi-plugin.js';
export * from './youmi-provider.js';
export * from './youmi-schemas.js';
