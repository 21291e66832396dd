import { createHash } from 'node:crypto';
import {
  coreError,
  firstZodIssue,
  type JsonValue,
  type KefuRecord,
  type PageSource,
  type PageSourceContext,
  type RecordPage,
} from '@kefu/core';
import { z } from 'zod';
import { wechatMpError } from './errors.js';
import {
  boundaryDigest,
  checkBoundary,
  judgeMsgListPage,
  type MsgListPosition,
  MsgListPositionSchema,
  type MsgListWindowRef,
  numberMismatchWarning,
  parseMsgListPosition,
  resumeShiftedWarning,
} from './msglist-cursor.js';
import { normalizeRecord, OccurrenceCounter, recordId, recordIdentity } from './record-normalizer.js';
import type { WechatMpClient } from './wechat-mp-client.js';
import { isCanonicalRawRecord, type RawRecord, RawRecordSchema } from './wechat-mp-schemas.js';

/** Which record API to read: current `getmsglist`, the 2015 `getrecord`, or the legacy (seed 000) `getrecord`. */
export type RecordApi = 'msglist' | '2015' | 'legacy';

/** Largest page of each API (API-NOTES). */
export const MAX_PAGE_SIZE: Readonly<Record<RecordApi, number>> = { msglist: 10_000, '2015': 50, legacy: 1000 };

/**
 * Smallest page of each API. A getmsglist page of 1 can never advance on a platform that
 * repeats the boundary record (inclusive bound, last id answered): kefu asks for at least 2.
 */
export const MIN_PAGE_SIZE: Readonly<Record<RecordApi, number>> = { msglist: 2, '2015': 1, legacy: 1 };

/**
 * Default page of each API. getmsglist pages of 2 000 rather than 10 000: a stream keeps
 * a few pages in memory (read-ahead, prefetch, the batch being cut), and on loopback the
 * throughput measured the same (docs/benchmarks.md); raise `pageSize` to spend fewer calls.
 */
export const DEFAULT_PAGE_SIZE: Readonly<Record<RecordApi, number>> = { msglist: 2000, '2015': 50, legacy: 1000 };

const SECONDS_PER_DAY = 86_400;

/**
 * Splits time ranges into windows that never cross a calendar day in Asia/Shanghai
 * (UTC+8, no DST since 1991): each window is ≤ 24 h (getmsglist refuses more, 65417)
 * and on one day (legacy getrecord requires it). Windows start on fixed boundaries, so a
 * checkpoint naming a window stays valid when a later sync extends `to`.
 */
export class DayWindowSplitter {
  readonly #offsetSeconds: number;

  /** A splitter on days of the given UTC offset (default +8 h, Beijing time). */
  constructor(offsetSeconds = 8 * 3600) {
    this.#offsetSeconds = offsetSeconds;
  }

  /** The first day boundary strictly after `second` (unix seconds). */
  nextBoundary(second: number): number {
    const local = second + this.#offsetSeconds;
    return (Math.floor(local / SECONDS_PER_DAY) + 1) * SECONDS_PER_DAY - this.#offsetSeconds;
  }

  /** The windows `[start, end)` covering `[from, to)` (unix seconds), in order. */
  *windows(from: number, to: number): Generator<{ start: number; end: number }> {
    for (let start = from; start < to; start = this.nextBoundary(start)) {
      yield { start, end: Math.min(this.nextBoundary(start), to) };
    }
  }
}

/**
 * The resumable position of a 2015 / legacy getrecord stream: the window's start (unix
 * seconds), the next `pageindex` in it (`cursor`), and the occurrence counts of the last
 * second delivered (for stable ids of identical records).
 */
export const PageIndexPositionSchema = z.object({
  api: z.enum(['2015', 'legacy']),
  windowStart: z.number().int().nonnegative(),
  cursor: z.number().int().positive(),
  /** Raw records of page `cursor` already delivered (when `to` cut a page short). */
  skip: z.number().int().positive().optional(),
  seen: z.object({ t: z.number(), c: z.record(z.string(), z.number().int().nonnegative()) }).optional(),
});
/** The position of a getrecord stream. */
export type PageIndexPosition = z.infer<typeof PageIndexPositionSchema>;

/** The position stored in checkpoints: getmsglist's (`MsgListPositionSchema`) or getrecord's. */
export const WechatPositionSchema = z.discriminatedUnion('api', [MsgListPositionSchema, PageIndexPositionSchema]);
/** The position stored in checkpoints. */
export type WechatPosition = z.infer<typeof WechatPositionSchema>;

/** What a record page source reads. */
export interface RecordWindowQuery {
  appId: string;
  /** Range `[from, to)` in unix seconds. */
  from: number;
  to: number;
  customer?: string | undefined;
  pageSize: number;
}

function toJson(position: WechatPosition): JsonValue {
  return { ...position } as JsonValue;
}

function parsePageIndexPosition(
  api: '2015' | 'legacy',
  position: JsonValue,
  query: RecordWindowQuery,
): PageIndexPosition {
  if (position === null) return { api, windowStart: query.from, cursor: 1 };
  const parsed = PageIndexPositionSchema.safeParse(position);
  if (!parsed.success || parsed.data.api !== api) {
    throw coreError(
      'KEFU_CHECKPOINT_INVALID',
      `wechat-mp checkpoint position ${JSON.stringify(position)} is not a ${api} position`,
      { details: { api } },
    );
  }
  return parsed.data;
}

/** Validates one raw record of a page; a malformed record fails the page (retried as a bad body). */
function validateRaw(item: unknown, call: string): RawRecord {
  if (isCanonicalRawRecord(item)) return item;
  const parsed = RawRecordSchema.safeParse(item);
  if (!parsed.success) {
    throw wechatMpError(
      'WECHAT_BAD_RESPONSE',
      `WeChat ${call} returned a malformed record: ${firstZodIssue(parsed.error)}`,
      {
        details: { call },
      },
    );
  }
  return parsed.data;
}

/**
 * Records normalized between two turns of the event loop. A page takes milliseconds to
 * normalize; meanwhile the read-ahead response arrives and sinks on other threads (SQLite)
 * wait for their next statement: turning the loop every few hundred records lets both go on.
 */
const RECORDS_PER_TURN = 250;

/** Which raw records of a page are this stream's to deliver. */
interface PageFilter {
  /** The window `[start, end)` (unix seconds): records outside are left to their own window. */
  start: number;
  end: number;
  /** Records before this second were delivered by an earlier sync (a window `to` had cut). */
  deliveredBefore?: number | undefined;
  /** `deliveredBefore` applies to this many leading raw records only (default: all). */
  deliveredWithin?: number | undefined;
}

/**
 * Normalizes the raw records of one page that the filter keeps (and that belong to
 * `customer`, if set). Records delivered before are dropped before the occurrence counter
 * sees them: it counted them then.
 */
async function normalizePage(
  list: readonly unknown[],
  call: string,
  filter: PageFilter,
  query: RecordWindowQuery,
  counter: OccurrenceCounter,
): Promise<KefuRecord[]> {
  const records: KefuRecord[] = [];
  const deliveredBefore = filter.deliveredBefore ?? Number.NEGATIVE_INFINITY;
  const deliveredWithin = filter.deliveredWithin ?? Number.POSITIVE_INFINITY;
  let count = 0;
  for (const item of list) {
    if (++count % RECORDS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    const raw = validateRaw(item, call);
    if (raw.time < filter.start || raw.time >= filter.end) continue;
    if (raw.time < deliveredBefore && count <= deliveredWithin) continue;
    const identity = recordIdentity(query.appId, raw);
    // The id at occurrence 0 keys the counter (shorter than the identity) and is the id of
    // almost every record: identical records in one second are rare.
    const firstId = recordId(identity, 0);
    const occurrence = counter.next(identity, raw.time, firstId);
    if (query.customer && raw.openid !== query.customer) continue;
    const id = occurrence === 0 ? firstId : recordId(identity, occurrence);
    records.push(normalizeRecord(query.appId, raw, item as JsonValue, occurrence, identity, id));
  }
  return records;
}

/** A request sent before its page is needed; its failure is reported when it is awaited. */
function readAhead<T>(request: Promise<T>): Promise<T> {
  request.catch(() => undefined);
  return request;
}

/** The window of a day a stream is in: `[start, end)`, where `end` is the day's end or the query's `to`. */
interface DayWindow extends MsgListWindowRef {
  /** The next Beijing midnight after `start`. */
  dayEnd: number;
}

/** What a getmsglist stream carries from page to page inside one window. */
interface MsgListWalk {
  /** The msgid of the next request. */
  msgid: number;
  /** Digest of the last raw record received, when `msgid` is one the platform answered. */
  boundary: string | undefined;
  exclusive: boolean;
  /** Set after a cut: raw records before this second were delivered (see `MsgListPositionSchema`). */
  deliveredBefore: number | undefined;
  /** The raw records of the page `to` cut, until the first page read after it. */
  cutPage: MsgListPosition['cutPage'];
  counter: OccurrenceCounter;
}

/**
 * Pages of `getmsglist`, following its `msgid` cursor (the rules are in msglist-cursor.ts):
 * each window's first request sends `msgid: 1`, every next one the `msgid` the platform
 * answered, unchanged; a page repeating the previous page's last record loses it; the
 * window ends on an empty or short page; impossible cursors fail with a typed error. A
 * `number` that disagrees with the records returned is reported as a warning. Records
 * outside `[start, end)` (an inclusive `endtime`) are left to their own window.
 */
export class MsgIdPageSource implements PageSource {
  readonly #client: WechatMpClient;
  readonly #query: RecordWindowQuery;
  readonly #splitter = new DayWindowSplitter();

  /** A source reading `query` through `client`. */
  constructor(client: WechatMpClient, query: RecordWindowQuery) {
    this.#client = client;
    this.#query = query;
  }

  /**
   * Pages from `position` (null = the start of the query). Only known cursors are read
   * ahead: the next page as soon as a full page arrived (with the `msgid` it answered), and
   * the next day's first page (`msgid: 1`), before this page's records are normalized; there
   * is still one request at a time per account.
   */
  async *pages(position: JsonValue, signal: AbortSignal, context: PageSourceContext = {}): AsyncGenerator<RecordPage> {
    const query = this.#query;
    const fetchPage = (window: DayWindow, msgid: number) =>
      readAhead(
        this.#client.getMsgList(
          { starttime: window.start, endtime: window.end, msgid, number: query.pageSize },
          { signal, onRetry: context.onRetry },
        ),
      );
    let current = parseMsgListPosition(position, query.from);
    let pending: ReturnType<typeof fetchPage> | undefined;
    while (current.windowStart < query.to) {
      const window = this.#window(current.windowStart);
      const walk = startWalk(current);
      while (true) {
        const requested = walk.msgid;
        const response = await (pending ?? fetchPage(window, requested));
        pending = undefined;
        const list = response.recordlist;
        const answer = { count: list.length, msgid: response.msgid, number: response.number };
        const warning = numberMismatchWarning(answer, requested, window);
        if (warning) context.onWarning?.(warning);
        const verdict = judgeMsgListPage(answer, requested, query.pageSize, window);
        if (!verdict.done) pending = fetchPage(window, verdict.next);
        else if (window.end === window.dayEnd && window.dayEnd < query.to) {
          pending = fetchPage(this.#window(window.dayEnd), 1);
        }
        const records = await this.#readPage(list, walk, window, requested, context);
        const exclusive = walk.exclusive ? { exclusive: true as const } : {};
        if (verdict.done && window.end === window.dayEnd) {
          // A whole day is read: the next one starts fresh.
          current = { api: 'msglist', windowStart: window.dayEnd, msgid: 1, ...exclusive };
          yield { records, position: toJson(current) };
          break;
        }
        if (verdict.done) {
          // `to` cut this window: a later sync asks again from this page's request.
          yield { records, position: toJson(cutPosition(window, requested, walk, this.#cutPage(list))) };
          return;
        }
        walk.msgid = verdict.next;
        walk.boundary = boundaryDigest(query.appId, validateRaw(list.at(-1), 'getmsglist'));
        yield { records, position: toJson(midPosition(window, walk)) };
      }
    }
  }

  #window(start: number): DayWindow {
    const dayEnd = this.#splitter.nextBoundary(start);
    return { appId: this.#query.appId, start, end: Math.min(dayEnd, this.#query.to), dayEnd };
  }

  /** The page's records to deliver: without a repeated boundary record, filtered, normalized. */
  async #readPage(
    list: readonly unknown[],
    walk: MsgListWalk,
    window: DayWindow,
    requested: number,
    context: PageSourceContext,
  ): Promise<KefuRecord[]> {
    const first = list.length > 0 ? validateRaw(list[0], 'getmsglist') : undefined;
    const check = checkBoundary(this.#query.appId, first, walk.boundary, walk.exclusive);
    walk.exclusive = check.exclusive;
    const fresh = check.dropFirst ? list.slice(1) : list;
    const skip = this.#deliveredSkip(list, walk);
    if (skip.shifted) context.onWarning?.(resumeShiftedWarning(window, requested, skip.shifted));
    const filter: PageFilter = { start: window.start, end: window.end, ...skip.filter };
    // `deliveredWithin` counts the raw list; a dropped first record shortens it by one.
    if (filter.deliveredWithin !== undefined && check.dropFirst) filter.deliveredWithin -= 1;
    return normalizePage(fresh, 'getmsglist', filter, this.#query, walk.counter);
  }

  /**
   * Which raw records a cut's `deliveredBefore` skips. On the first page after the cut, when it
   * starts with the records of the cut page, just those (later ones are new even if older), and
   * the rest of the window skips nothing; when it does not (`shifted`), every raw record of the
   * window before the cut, on this page and the next ones.
   */
  #deliveredSkip(
    list: readonly unknown[],
    walk: MsgListWalk,
  ): {
    filter: Pick<PageFilter, 'deliveredBefore' | 'deliveredWithin'>;
    shifted?: { records: number; deliveredBefore: number };
  } {
    const { deliveredBefore, cutPage } = walk;
    walk.cutPage = undefined;
    if (deliveredBefore === undefined) return { filter: {} };
    if (!cutPage) return { filter: { deliveredBefore } };
    if (!this.#startsWithCutPage(list, cutPage)) {
      return { filter: { deliveredBefore }, shifted: { records: cutPage.records, deliveredBefore } };
    }
    walk.deliveredBefore = undefined;
    return { filter: { deliveredBefore, deliveredWithin: cutPage.records } };
  }

  #startsWithCutPage(list: readonly unknown[], cut: NonNullable<MsgListPosition['cutPage']>): boolean {
    if (cut.records === 0) return true;
    if (list.length < cut.records || cut.last === undefined) return false;
    return boundaryDigest(this.#query.appId, validateRaw(list[cut.records - 1], 'getmsglist')) === cut.last;
  }

  /** What a cut position keeps of the window's last page: its raw record count and last record's digest. */
  #cutPage(list: readonly unknown[]): NonNullable<MsgListPosition['cutPage']> {
    const last = list.at(-1);
    return {
      records: list.length,
      ...(last === undefined ? {} : { last: boundaryDigest(this.#query.appId, validateRaw(last, 'getmsglist')) }),
    };
  }
}

/** The walk of a window from a stored position. */
function startWalk(position: MsgListPosition): MsgListWalk {
  return {
    msgid: position.msgid,
    boundary: position.boundary,
    exclusive: position.exclusive === true,
    deliveredBefore: position.deliveredBefore,
    cutPage: position.cutPage,
    counter: new OccurrenceCounter(position.seen),
  };
}

/** The position after a full page: ask for the answered msgid, expecting the boundary record maybe repeated. */
function midPosition(window: DayWindow, walk: MsgListWalk): MsgListPosition {
  const seen = walk.counter.snapshot();
  return {
    api: 'msglist',
    windowStart: window.start,
    msgid: walk.msgid,
    ...(walk.boundary ? { boundary: walk.boundary } : {}),
    ...(walk.exclusive ? { exclusive: true as const } : {}),
    ...(walk.deliveredBefore !== undefined ? { deliveredBefore: walk.deliveredBefore } : {}),
    ...(seen ? { seen } : {}),
  };
}

/**
 * The position after `to` cut a window: the request of its last page is a lower bound below
 * every record not delivered (the platform may include `endtime`, and records at or after
 * `end` were left out); of that page's raw records (`cutPage`), those before `end` were delivered.
 */
function cutPosition(
  window: DayWindow,
  requested: number,
  walk: MsgListWalk,
  cutPage: NonNullable<MsgListPosition['cutPage']>,
): MsgListPosition {
  const seen = walk.counter.snapshot();
  return {
    api: 'msglist',
    windowStart: window.start,
    msgid: requested,
    ...(walk.exclusive ? { exclusive: true as const } : {}),
    deliveredBefore: Math.max(walk.deliveredBefore ?? 0, window.end),
    cutPage,
    ...(seen ? { seen } : {}),
  };
}

/**
 * Pages of the 2015 (`msgrecord/getrecord`, pagesize ≤ 50) and legacy
 * (`cgi-bin/customservice/getrecord`, ≤ 1000, one calendar day) APIs, paging by
 * `pageindex` from 1. `endtime` is sent as the exclusive window end (the next Beijing midnight
 * at most, which the legacy "no cross-day query" rule accepts as the end of the day).
 * Paging stops on a short or empty page, or when a page repeats the previous one.
 */
export class PageIndexPageSource implements PageSource {
  readonly #client: WechatMpClient;
  readonly #api: '2015' | 'legacy';
  readonly #query: RecordWindowQuery;
  readonly #splitter = new DayWindowSplitter();

  /** A source reading `query` through `client` with the given API. */
  constructor(client: WechatMpClient, api: '2015' | 'legacy', query: RecordWindowQuery) {
    this.#client = client;
    this.#api = api;
    this.#query = query;
  }

  /** Pages from `position` (null = the start of the query). */
  async *pages(position: JsonValue, signal: AbortSignal, context: PageSourceContext = {}): AsyncGenerator<RecordPage> {
    const query = this.#query;
    const api = this.#api;
    const call = api === '2015' ? 'msgrecord/getrecord' : 'customservice/getrecord';
    // Read-ahead as in MsgIdPageSource: one request at a time, sent before normalizing.
    const fetchPage = (windowStart: number, end: number, pageindex: number) =>
      readAhead(
        this.#client.getRecordPage(
          api,
          {
            starttime: windowStart,
            endtime: end,
            pagesize: query.pageSize,
            pageindex,
            ...(query.customer ? { openid: query.customer } : {}),
          },
          { signal, onRetry: context.onRetry },
        ),
      );
    let current = parsePageIndexPosition(api, position, query);
    let pending: ReturnType<typeof fetchPage> | undefined;
    while (current.windowStart < query.to) {
      const boundary = this.#splitter.nextBoundary(current.windowStart);
      const end = Math.min(boundary, query.to);
      const counter = new OccurrenceCounter(current.seen);
      let pageIndex = current.cursor;
      let skip = current.skip ?? 0;
      let previousDigest = '';
      while (true) {
        const response = await (pending ?? fetchPage(current.windowStart, end, pageIndex));
        pending = undefined;
        const list = response.recordlist;
        const digest = createHash('sha256').update(JSON.stringify(list)).digest('hex');
        // A platform ignoring pageindex would repeat the page forever: stop instead.
        const repeated = list.length > 0 && digest === previousDigest;
        const windowDone = repeated || list.length < query.pageSize;
        if (!windowDone) pending = fetchPage(current.windowStart, end, pageIndex + 1);
        else if (end === boundary && boundary < query.to) {
          pending = fetchPage(boundary, Math.min(this.#splitter.nextBoundary(boundary), query.to), 1);
        }
        const records = repeated
          ? []
          : await normalizePage(list.slice(skip), call, { start: current.windowStart, end }, query, counter);
        const seen = counter.snapshot();
        if (windowDone && end === boundary) {
          yield { records, position: toJson({ api, windowStart: boundary, cursor: 1 }) };
          current = { api, windowStart: boundary, cursor: 1 };
          break;
        }
        // A short last page may fill up when a later sync extends `to`: resume inside it.
        const after: PageIndexPosition =
          windowDone && list.length > 0 && !repeated
            ? { api, windowStart: current.windowStart, cursor: pageIndex, skip: list.length, ...(seen ? { seen } : {}) }
            : windowDone
              ? {
                  api,
                  windowStart: current.windowStart,
                  cursor: pageIndex,
                  ...(skip ? { skip } : {}),
                  ...(seen ? { seen } : {}),
                }
              : { api, windowStart: current.windowStart, cursor: pageIndex + 1, ...(seen ? { seen } : {}) };
        yield { records, position: toJson(after) };
        if (windowDone) return;
        pageIndex += 1;
        skip = 0;
        previousDigest = digest;
      }
    }
  }
}
