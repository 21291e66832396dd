/**
 * The emulated Youmi open API (友米聚合): v2 (OAuth2 bearer + envelope) and v1
 * (HMAC-SHA1 signatures), deterministic seeded data, callbacks. See README "Youmi".
 */

export { youmiV1Signature } from './youmi-auth.js';
export { YOUMI_ERRMSG, YOUMI_V1_RETURN_CODE } from './youmi-envelope.js';
export {
  type YoumiEmulatorErrorCode,
  youmiEmulatorError,
  youmiEmulatorErrorCatalogue,
} from './youmi-errors.js';
export type { YoumiDeliveryAttempt } from './youmi-events.js';
export type { ResolvedYoumiOptions, YoumiEmulatorOptions } from './youmi-options.js';
export {
  createYoumiPlatform,
  type ExpectedChatsQuery,
  type YoumiEmulatorDescription,
  type YoumiFaultSettings,
  type YoumiPlatform,
  type YoumiPlatformOptions,
} from './youmi-platform.js';
export {
  type YoumiEnvelope,
  type YoumiEventType,
  type YoumiRawChat,
  type YoumiRawFan,
  type YoumiV1Envelope,
  youmiEventTypes,
  youmiRawChatSchema,
  youmiRawFanSchema,
} from './youmi-schemas.js';
export { formatYoumiTime, parseYoumiTime, YOUMI_UTC_OFFSET_MS } from './youmi-time.js';
export { YOUMI_TOKEN_PATH } from './youmi-token-endpoint.js';
export { YOUMI_V1_TOKEN_PATH } from './youmi-v1-api.js';
