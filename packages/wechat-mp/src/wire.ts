/**
 * @kefu/wechat-mp/wire — WeChat's wire formats, opt-in, for tools that read the platform's
 * answers themselves (benchmarks, ground-truth checks, other emulators): the zod schemas of
 * the requests and answers, the lenient JSON reader, the raw-record normalizer and the record
 * identities, the push parser, and the Beijing-day window splitter. They follow the platform
 * and may change with it; the main entry `@kefu/wechat-mp` is what applications use.
 */
export { MsgListPositionSchema, parseMsgListPosition } from './msglist-cursor.js';
export { parsePlatformJson, repairPlatformJson } from './platform-json.js';
export { parsePush, pushRecordId, WechatPushSchema } from './push-messages.js';
export { normalizeRecord, OccurrenceCounter, OPERCODES, recordId, recordIdentity } from './record-normalizer.js';
export { DayWindowSplitter, PageIndexPositionSchema, WechatPositionSchema } from './record-pages.js';
export * from './wechat-mp-schemas.js';
