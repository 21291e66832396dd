import type { WechatRawRecord } from './wechat-data.js';
import type { WechatRecordKnobs } from './wechat-record-knobs.js';
import type { RecordWindow, WindowEntry } from './wechat-record-window.js';

/**
 * The getmsglist answer for one window under the knobs in force (wechat-record-knobs.ts).
 * Documented (API-NOTES "Records", platforms/wechat-push.md §5): `msgid` ascends and is the
 * start of the next request; an empty page answers `{recordlist: [], number: 0, msgid: 0}`
 * (community threads, wechat-push.md §5.3). Everything else is a knob.
 */

/** The body getmsglist answers (before serialization). */
export interface MsgListAnswer {
  recordlist: WechatRawRecord[];
  number: number;
  msgid: number;
}

/** The validated request fields the answer depends on. */
export interface MsgListPageRequest {
  msgid: number;
  number: number;
}

/** The page of `window` that `request` asks for, and the cursor answered with it. */
export function answerMsgList(
  window: RecordWindow,
  request: MsgListPageRequest,
  knobs: WechatRecordKnobs,
): MsgListAnswer {
  const entries = window.entries(firstPosition(window, request.msgid, knobs), request.number);
  const last = entries.at(-1);
  if (!last) return { recordlist: [], number: 0, msgid: 0 };
  const full = entries.length === request.number;
  const cursor = responseCursor(request.msgid, entries.length, last, knobs);
  return {
    recordlist: entries.map((entry) => entry.record),
    number: knobs.number === 'requested' ? request.number : entries.length,
    msgid: full ? faultyCursor(cursor, request.msgid, knobs.cursorFault) : cursor,
  };
}

/** Where the page starts: a position (position model) or the first id at or past the bound. */
function firstPosition(window: RecordWindow, msgid: number, knobs: WechatRecordKnobs): number {
  if (knobs.msgidModel === 'position') return msgid;
  return window.firstPositionWithMsgidAtLeast(knobs.continuation === 'inclusive' ? msgid : msgid + 1);
}

/** The msgid answered for a non-empty page. */
function responseCursor(requested: number, count: number, last: WindowEntry, knobs: WechatRecordKnobs): number {
  if (knobs.msgidModel === 'position') return requested + count;
  return knobs.responseMsgid === 'last' ? last.msgid : last.msgid + 1;
}

/** The impossible cursor a `cursorFault` knob answers on full pages instead. */
function faultyCursor(cursor: number, requested: number, fault: WechatRecordKnobs['cursorFault']): number {
  switch (fault) {
    case 'stall':
      return requested;
    case 'missing':
      return 0;
    case 'backwards':
      return requested > 1 ? requested - 1 : cursor;
    default:
      return cursor;
  }
}
