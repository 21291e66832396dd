/**
 * @kefu/wecom-kf/wire — WeCom kf's wire formats, opt-in, for tools that read the platform's
 * answers themselves (emulators, ground-truth checks): the zod schemas of the requests and
 * answers, the msg_list item parser and normalizer, the sync_msg page source and its position,
 * the callback reader, the record of a sent message. They follow the platform and may change
 * with it; the main entry `@kefu/wecom-kf` is what applications use.
 */
export { readKfCallback } from './callback-receiver.js';
export { platformError, TOKEN_ERRCODES } from './errors.js';
export {
  itemAccount,
  itemTimeMs,
  messageFields,
  normalizeItem,
  parseSyncMsgItem,
  WECOM_KF_PLATFORM,
} from './record-normalizer.js';
export { sentRecord } from './sent-records.js';
export { parseSyncMsgPosition, RETENTION_MS, SyncMsgPageSource, SyncMsgPositionSchema } from './sync-msg-pages.js';
export * from './wecom-kf-schemas.js';
