import { coreError, firstZodIssue, type JsonValue, type ProviderWarning, toIsoTimestamp } from '@kefu/core';
import { z } from 'zod';
import { wechatMpError } from './errors.js';
import { identityDigest, recordIdentity } from './record-normalizer.js';
import type { RawRecord } from './wechat-mp-schemas.js';

/**
 * The rules of getmsglist's `msgid` cursor (API-NOTES "Records"; platforms/wechat-push.md §5).
 * Documented: the first request of a window sends `msgid: 1`; `msgid` is a global, ascending
 * message id (the examples answer 20165258 to `msgid: 1`); a client passes the `msgid` the
 * interface returned as the next start. Not documented, and so handled under every reading
 * (docs/providers/wechat-mp.md, "What the provider relies on"):
 * - whether the request bound is inclusive and the answer the last id or the next one: the
 *   answer is sent back unchanged (never + 1, never a count), and a page starting with the
 *   previous page's last record (an inclusive bound answering the last id) loses that record;
 * - when the window is over: an empty page, a short page, or a short page with `msgid` 0;
 * - impossible answers (a full page with no cursor, one that does not advance or goes back)
 *   stop the stream with a typed error: following them loops, stopping loses records.
 */

/** The occurrence counts a position carries (see `OccurrenceCounter`). */
const SeenSchema = z.object({ t: z.number(), c: z.record(z.string(), z.number().int().nonnegative()) });

/** A digest of a record's identity (see `identityDigest`). */
const DigestSchema = z.string().regex(/^[0-9a-f]{16}$/);

/**
 * Where a getmsglist stream stands: the window's start (unix seconds) and the `msgid` to ask
 * for next. `boundary` is set when that msgid is one the platform answered: it is the digest of
 * the last raw record received (no content is stored), which an inclusive platform repeats at
 * the start of the next page. `exclusive` records that the platform did not repeat it once, so no
 * leading record is dropped again.
 *
 * When `to` cut the window, `msgid` is the request of its last page (a lower bound below every
 * record not delivered: the platform may include `endtime`, and records at or after `to` were
 * left out), `cutPage` counts the raw records that page held (with the digest of its last one)
 * and `deliveredBefore` is the cut: of those records, the ones before it were delivered. A later
 * sync asks for `msgid` again; when the answer starts with the same records, only they are
 * skipped (by time), and anything after them is new, even a record the platform listed late
 * with an earlier time. When it does not (the platform reordered), every raw record of the
 * window before `deliveredBefore` is skipped, and a warning says so.
 */
export const MsgListPositionSchema = z.strictObject({
  api: z.literal('msglist'),
  windowStart: z.number().int().nonnegative(),
  msgid: z.number().int().positive(),
  boundary: DigestSchema.optional(),
  exclusive: z.literal(true).optional(),
  deliveredBefore: z.number().int().nonnegative().optional(),
  cutPage: z.strictObject({ records: z.number().int().nonnegative(), last: DigestSchema.optional() }).optional(),
  seen: SeenSchema.optional(),
});
/** The position of a getmsglist stream. */
export type MsgListPosition = z.infer<typeof MsgListPositionSchema>;

/** The window a page belongs to, for messages. */
export interface MsgListWindowRef {
  appId: string;
  start: number;
  end: number;
}

/** What an answer means for paging: the window is over, or the `msgid` to ask for next. */
export type MsgListVerdict = { done: true } | { done: false; next: number };

/** The parts of a getmsglist answer the cursor rules read. */
export interface MsgListAnswerShape {
  /** Records in `recordlist` (raw, before any filtering). */
  count: number;
  msgid?: number | undefined;
  number?: number | undefined;
}

/**
 * The verdict on one answer to a request for `pageSize` records from `requested`. Throws
 * WECHAT_MSGID_MISSING / _NOT_ADVANCING / _BACKWARDS / _UNUSABLE on answers that cannot be
 * followed without looping or losing records.
 */
export function judgeMsgListPage(
  answer: MsgListAnswerShape,
  requested: number,
  pageSize: number,
  window: MsgListWindowRef,
): MsgListVerdict {
  const { count, msgid } = answer;
  if (count === 0) return { done: true };
  if (count < pageSize) {
    if (msgid !== undefined && msgid > 0 && msgid < requested)
      throw cursorError('WECHAT_MSGID_BACKWARDS', answer, requested, window);
    return { done: true };
  }
  if (msgid === undefined || msgid === 0) throw cursorError('WECHAT_MSGID_MISSING', answer, requested, window);
  if (!Number.isSafeInteger(msgid) || msgid < 0) throw cursorError('WECHAT_MSGID_UNUSABLE', answer, requested, window);
  if (msgid < requested) throw cursorError('WECHAT_MSGID_BACKWARDS', answer, requested, window);
  if (msgid === requested) throw cursorError('WECHAT_MSGID_NOT_ADVANCING', answer, requested, window);
  return { done: false, next: msgid };
}

/** A warning when the answer's `number` is not the count of records it carries (kefu pages on the records). */
export function numberMismatchWarning(
  answer: MsgListAnswerShape,
  requested: number,
  window: MsgListWindowRef,
): ProviderWarning | undefined {
  if (answer.number === undefined || answer.number === answer.count) return undefined;
  return {
    code: 'WECHAT_MSGLIST_NUMBER_MISMATCH',
    message: `getmsglist answered number ${answer.number} with ${answer.count} records; kefu pages on the records it received and ignores number`,
    details: { ...describeWindow(window), requestedMsgid: requested, number: answer.number, records: answer.count },
  };
}

/** What the first record of a page says about the boundary: drop it, and is the platform known exclusive. */
export interface BoundaryCheck {
  /** The page starts with the previous page's last record, repeated by an inclusive platform. */
  dropFirst: boolean;
  exclusive: boolean;
}

/**
 * Compares a page's first record with the previous page's last (`boundary`, a digest). Equal
 * and the platform not known exclusive: an inclusive platform repeated it, drop it. Different:
 * the platform is exclusive (or answers the next id), and is known so from now on. Residual
 * risk, documented: an exclusive platform whose first continuation page starts with a record
 * identical to the previous one (same customer, agent, second, text) loses that record.
 */
export function checkBoundary(
  appId: string,
  first: RawRecord | undefined,
  boundary: string | undefined,
  exclusive: boolean,
): BoundaryCheck {
  if (first === undefined || boundary === undefined) return { dropFirst: false, exclusive };
  const repeated = identityDigest(recordIdentity(appId, first)) === boundary;
  if (repeated) return { dropFirst: !exclusive, exclusive };
  return { dropFirst: false, exclusive: true };
}

/** A warning when the page read again after a cut does not start with the records seen then. */
export function resumeShiftedWarning(
  window: MsgListWindowRef,
  requested: number,
  cut: { records: number; deliveredBefore: number },
): ProviderWarning {
  const before = toIsoTimestamp(cut.deliveredBefore * 1000);
  return {
    code: 'WECHAT_MSGLIST_RESUME_SHIFTED',
    message: `getmsglist msgid ${requested} no longer starts with the ${cut.records} records read when the last sync stopped: records before ${before} are skipped by time, so any the platform listed late, before ${before}, would be missed`,
    details: { ...describeWindow(window), requestedMsgid: requested, cutRecords: cut.records, deliveredBefore: before },
  };
}

/** The digest a position keeps of a page's last raw record. */
export function boundaryDigest(appId: string, last: RawRecord): string {
  return identityDigest(recordIdentity(appId, last));
}

/**
 * Reads a stored position (null = the start of the query). A position of kefu 0.1 before the msgid fix
 * (`cursor`, a count of records in the window) is taken only at a window's start, where it
 * means the same; elsewhere it cannot be mapped to a `msgid` and fails with advice.
 */
export function parseMsgListPosition(position: JsonValue, from: number): MsgListPosition {
  if (position === null) return { api: 'msglist', windowStart: from, msgid: 1 };
  const legacy = migrateCountPosition(position);
  const parsed = MsgListPositionSchema.safeParse(legacy ?? position);
  if (parsed.success) return parsed.data;
  throw coreError(
    'KEFU_CHECKPOINT_INVALID',
    `wechat-mp checkpoint position ${JSON.stringify(position)} is not a getmsglist (msglist) position: ${firstZodIssue(parsed.error)}`,
    { details: { api: 'msglist' } },
  );
}

/** The position of kefu 0.1 before the msgid fix at a window's start, in today's form; undefined when not one. */
function migrateCountPosition(position: JsonValue): MsgListPosition | undefined {
  if (typeof position !== 'object' || position === null || Array.isArray(position)) return undefined;
  const { api, windowStart, cursor } = position as Record<string, JsonValue>;
  if (api !== 'msglist' || cursor === undefined) return undefined;
  if (cursor === 1 && typeof windowStart === 'number') return { api: 'msglist', windowStart, msgid: 1 };
  const day = typeof windowStart === 'number' ? toIsoTimestamp(windowStart * 1000) : 'its window';
  throw coreError(
    'KEFU_CHECKPOINT_INVALID',
    `wechat-mp checkpoint position ${JSON.stringify(position)} counts records within a window (kefu 0.1 before the msgid fix), which is not getmsglist's msgid cursor: it cannot be resumed exactly. Delete this target's checkpoint and sync again from ${day} (kefu sync --from ${day}); record ids are unchanged, so sinks that keep records by id (the database sink) store no duplicates`,
    { details: { api: 'msglist', windowStart } },
  );
}

function describeWindow(window: MsgListWindowRef) {
  return {
    appId: window.appId,
    windowStart: toIsoTimestamp(window.start * 1000),
    windowEnd: toIsoTimestamp(window.end * 1000),
  };
}

function cursorError(
  code: 'WECHAT_MSGID_MISSING' | 'WECHAT_MSGID_NOT_ADVANCING' | 'WECHAT_MSGID_BACKWARDS' | 'WECHAT_MSGID_UNUSABLE',
  answer: MsgListAnswerShape,
  requested: number,
  window: MsgListWindowRef,
) {
  const where = describeWindow(window);
  const what: Record<typeof code, string> = {
    WECHAT_MSGID_MISSING: `a full page of ${answer.count} records with msgid ${answer.msgid ?? '(absent)'}: there is no cursor to read the rest of the window with`,
    WECHAT_MSGID_NOT_ADVANCING: `a full page of ${answer.count} records with msgid ${answer.msgid}, the msgid it was asked for: following it would read the same page forever`,
    WECHAT_MSGID_BACKWARDS: `msgid ${answer.msgid}, lower than the msgid ${requested} it was asked for`,
    WECHAT_MSGID_UNUSABLE: `msgid ${answer.msgid}, which is not an integer kefu can send back exactly`,
  };
  return wechatMpError(
    code,
    `WeChat getmsglist for ${window.appId}, window ${where.windowStart} – ${where.windowEnd}, msgid ${requested}, answered ${what[code]}. Nothing after the last checkpoint was skipped`,
    { details: { ...where, requestedMsgid: requested, answeredMsgid: answer.msgid, records: answer.count } },
  );
}
