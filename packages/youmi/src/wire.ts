/**
 * @kefu/youmi/wire — Youmi's wire formats, opt-in, for tools that read the platform's answers
 * themselves (benchmarks, ground-truth checks, other emulators): the zod schemas of the
 * answers and callbacks, the envelope reader, the chat parser and normalizer with its type
 * table, Beijing times, and the record position. They follow the platform and may change
 * with it; the main entry `@kefu/youmi` is what applications use.
 */
export { formatBeijingTime, parseBeijingTime, readBeijingTime } from './beijing-time.js';
export { v1CallbackTypeName } from './callback-parser.js';
export {
  bracketValue,
  chatRecordId,
  decodeReserved,
  normalizeChat,
  parseChat,
  YOUMI_PLATFORM,
  YOUMI_TYPE_RULES,
} from './chat-normalizer.js';
export { parseYoumiPosition, YoumiPositionSchema } from './record-pages.js';
export { readEnvelope, readEnvelopeText, YOUMI_CODE_MEANINGS, YoumiEnvelopeSchema } from './youmi-envelope.js';
export * from './youmi-schemas.js';
