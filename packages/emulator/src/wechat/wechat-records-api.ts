import type { EmulatorResponse } from '../platform.js';
import type { ApiArea } from '../platform-kit.js';
import { fail, ok, parseBody, unescapeControlCharacters } from './wechat-answers.js';
import { shanghaiDay, type WechatRawRecord } from './wechat-data.js';
import { WechatErrcode } from './wechat-errcodes.js';
import { answerMsgList } from './wechat-msglist.js';
import { MsgListRequestSchema, RecordPageRequestSchema } from './wechat-schemas.js';
import type { WechatCall, WechatRoute, WechatState } from './wechat-state.js';

/**
 * The three record APIs: `msgrecord/getmsglist` (msgid cursor, readings as knobs), and the
 * page-indexed `msgrecord/getrecord` (50 a page) and legacy `cgi-bin/customservice/getrecord`
 * (1000 a page, one calendar day). The daily quota fault counts calls to these paths.
 */

/** Paths the `wechatDailyQuotaAfterCalls` fault counts. */
export const WECHAT_RECORD_PATHS: ReadonlySet<string> = new Set([
  '/customservice/msgrecord/getmsglist',
  '/customservice/msgrecord/getrecord',
  '/cgi-bin/customservice/getrecord',
]);

/** The record routes. */
export const wechatRecordApi: ApiArea<WechatState, WechatRoute> = (state) => ({
  '/customservice/msgrecord/getmsglist': { access: 'token', methods: ['POST'], handle: (c) => msgList(state, c) },
  '/customservice/msgrecord/getrecord': { access: 'token', methods: ['POST'], handle: (c) => recordPage(state, c, 50) },
  '/cgi-bin/customservice/getrecord': { access: 'token', methods: ['POST'], handle: (c) => recordPage(state, c, 1000) },
});

function msgList(platform: WechatState, call: WechatCall): EmulatorResponse {
  const body = parseBody(call.request, MsgListRequestSchema, WechatErrcode.badQuery);
  if ('error' in body) return body.error;
  const { starttime, endtime, msgid, number } = body.value;
  if (number < 1 || number > 10_000) return fail(WechatErrcode.badQuery, 'number must be 1..10000');
  if (endtime <= starttime) return fail(WechatErrcode.badQuery, 'endtime must be after starttime');
  if (endtime - starttime > 86_400) return fail(WechatErrcode.queryRange, 'at most 24 hours per query');
  const knobs = platform.knobs().records;
  // The docs do not say whether a record at exactly `endtime` is in the window: a knob.
  const end = knobs.endtime === 'inclusive' ? endtime + 1 : endtime;
  const window = platform.window(call.account, { start: starttime, end, messagesOnly: true }, call.now);
  return records(platform, answerMsgList(window, { msgid, number }, knobs));
}

function recordPage(platform: WechatState, call: WechatCall, maxPageSize: number): EmulatorResponse {
  const body = parseBody(call.request, RecordPageRequestSchema, WechatErrcode.badQuery);
  if ('error' in body) return body.error;
  const { starttime, endtime, openid, pagesize, pageindex } = body.value;
  if (pagesize < 1 || pagesize > maxPageSize) return fail(WechatErrcode.badQuery, `pagesize must be 1..${maxPageSize}`);
  if (endtime <= starttime) return fail(WechatErrcode.badQuery, 'endtime must be after starttime');
  if (endtime - starttime > 86_400) return fail(WechatErrcode.queryRange, 'at most 24 hours per query');
  // The legacy API refuses ranges crossing a calendar day (Asia/Shanghai); endtime is exclusive.
  if (maxPageSize === 1000 && shanghaiDay(starttime) !== shanghaiDay(endtime - 1)) {
    return fail(WechatErrcode.queryRange, 'starttime and endtime must be on the same day (Asia/Shanghai)');
  }
  if (openid !== undefined && openid !== '' && !call.state.customers.has(openid))
    return fail(WechatErrcode.invalidOpenid);
  const range = { start: starttime, end: endtime, messagesOnly: false, openid: openid || undefined };
  const window = platform.window(call.account, range, call.now);
  return records(platform, { recordlist: window.page((pageindex - 1) * pagesize + 1, pagesize) });
}

/**
 * A record answer; with `rawControlCharacters`, control characters in texts go out
 * unescaped, as the real platform sends them; with `indentedRecordBodies`, indented.
 */
function records(
  platform: WechatState,
  body: { recordlist: WechatRawRecord[]; number?: number; msgid?: number },
): EmulatorResponse {
  const { rawControlCharacters, indentedRecordBodies } = platform.options;
  if (!rawControlCharacters && !indentedRecordBodies) return ok(body);
  const text = indentedRecordBodies ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  return ok(rawControlCharacters ? unescapeControlCharacters(text) : text);
}
