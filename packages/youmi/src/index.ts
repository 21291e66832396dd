/**
 * @kefu/youmi: the Youmi (友米聚合) open-API provider for kefu: token call / HMAC auth, typed
 * clients for the documented v2 and v1 calls, resumable record streams of operating accounts
 * with a cursor per fan, and a callback receiver whose chats merge with the backfill.
 */
export * from './beijing-time.js';
export * from './callback-auth.js';
export * from './callback-receiver.js';
export * from './callbacks-config.js';
export * from './chat-normalizer.js';
export * from './errors.js';
export * from './push-receiver.js';
export * from './record-pages.js';
export * from './youmi-auth.js';
export * from './youmi-client.js';
export * from './youmi-config.js';
export * from './youmi-envelope.js';
export { default, plugin } from './youmi-plugin.js';
export * from './youmi-provider.js';
export * from './youmi-schemas.js';
