/**
 * @kefu/youmi: the Youmi (友米聚合) open-API provider for kefu: the provider and its plugin,
 * typed clients for the documented v2 and v1 calls, the config schema, the error catalogue,
 * and the callback receivers (with the authentication they share) whose chats merge with
 * the backfill.
 *
 * The platform's wire formats (answer schemas, the envelope reader, the chat parser and
 * normalizer, Beijing times) are an opt-in subpath, `@kefu/youmi/wire`.
 *
 * `export type *` lines add the types these values take and return, and no runtime name.
 */
export type * from './beijing-time.js';
export type * from './callback-auth.js';
export {
  authenticateYoumiCallback,
  YOUMI_SIGNATURE_HEADER,
  YOUMI_TIMESTAMP_HEADER,
  youmiCallbackSignature,
} from './callback-auth.js';
export type * from './callback-receiver.js';
export { mergeWithoutDuplicates, YoumiCallbackReceiver } from './callback-receiver.js';
export type * from './callbacks-config.js';
export type * from './chat-normalizer.js';
export type * from './errors.js';
export { youmiErrorCatalogue } from './errors.js';
export type * from './push-receiver.js';
export { YoumiPushReceiver } from './push-receiver.js';
export type * from './record-pages.js';
export type * from './youmi-auth.js';
export type * from './youmi-client.js';
export { YoumiClient, YoumiV1Client } from './youmi-client.js';
export type * from './youmi-config.js';
export { parseYoumiConfig, YoumiConfigSchema } from './youmi-config.js';
export type * from './youmi-envelope.js';
export { default, plugin } from './youmi-plugin.js';
export type * from './youmi-provider.js';
export { YoumiProvider } from './youmi-provider.js';
export type * from './youmi-schemas.js';
