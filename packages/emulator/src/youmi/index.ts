/**
 * The emulated Youmi open API (友米聚合): v2 (bearer token + envelope) and v1 (HMAC-SHA1
 * signatures, same envelope), deterministic seeded data, callbacks, one knob per reading
 * the docs leave open, and control endpoints under `/__emulator/youmi/`. See README.md.
 */

export { youmiV1Signature } from './youmi-auth.js';
export { YOUMI_ERRMSG } from './youmi-envelope.js';
export {
  type YoumiEmulatorErrorCode,
  youmiEmulatorError,
  youmiEmulatorErrorCatalogue,
} from './youmi-errors.js';
export { V1_CALLBACK_TYPES, type YoumiDeliveryAttempt } from './youmi-events.js';
export {
  DEFAULT_YOUMI_READINGS,
  type ResolvedYoumiOptions,
  type ResolvedYoumiReadings,
  type YoumiEmulatorOptions,
  type YoumiReadings,
} from './youmi-options.js';
export {
  createYoumiPlatform,
  type ExpectedChatsQuery,
  type LateUploadInput,
  type YoumiEmulatorDescription,
  type YoumiFaultSettings,
  type YoumiPlatform,
  type YoumiPlatformOptions,
} from './youmi-platform.js';
export {
  YOUMI_SCOPE,
  type YoumiEnvelope,
  type YoumiEventType,
  type YoumiRawChat,
  type YoumiRawFan,
  youmiEventTypes,
  youmiRawChatSchema,
  youmiRawFanSchema,
} from './youmi-schemas.js';
export { formatYoumiTime, parseYoumiTime, YOUMI_UTC_OFFSET_MS } from './youmi-time.js';
export { YOUMI_TOKEN_PATH } from './youmi-token-endpoint.js';
export { YOUMI_V1_TOKEN_PATH } from './youmi-v1-api.js';
