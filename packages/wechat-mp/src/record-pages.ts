import { createHash } from 'node:crypto';
import {
  coreError,
  type JsonValue,
  type KefuRecord,
  type PageSource,
  type PageSourceContext,
  type RecordPage,
} from '@kefu/core';
import { z } from 'zod';
import { wechatMpError } from './errors.js';
import { normalizeRecord, OccurrenceCounter, recordIdentity } from './record-normalizer.js';
import type { WechatMpClient } from './wechat-mp-client.js';
import { isCanonicalRawRecord, type RawRecord, RawRecordSchema } from './wechat-mp-schemas.js';

/** Which record API to read: current `getmsglist`, the 2015 `getrecord`, or the legacy (seed 000) `getrecord`. */
export type RecordApi = 'msglist' | '2015' | 'legacy';

/** Largest page of each API (API-NOTES). */
export const MAX_PAGE_SIZE: Readonly<Record<RecordApi, number>> = { msglist: 10_000, '2015': 50, legacy: 1000 };

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
 * The resumable position of a WeChat record stream: the window's start (unix seconds),
 * the next `msgid` (msglist) or `pageindex` (2015/legacy) in it, and the occurrence
 * counts of the last second delivered (for stable ids of identical records).
 */
export const WechatPositionSchema = z.object({
  api: z.enum(['msglist', '2015', 'legacy']),
  windowStart: z.number().int().nonnegative(),
  cursor: z.number().int().positive(),
  /** Raw records of page `cursor` already delivered (pageindex APIs, when `to` cut a page short). */
  skip: z.number().int().positive().optional(),
  seen: z.object({ t: z.number(), c: z.record(z.string(), z.number().int().nonnegative()) }).optional(),
});
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

function parsePosition(api: RecordApi, position: JsonValue, query: RecordWindowQuery): WechatPosition {
  if (position === null) return { api, windowStart: query.from, cursor: 1 };
  const parsed = WechatPositionSchema.safeParse(position);
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
      `WeChat ${call} returned a malformed record: ${parsed.error.issues[0]?.message}`,
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

/** Normalizes the raw records of one page that fall in `[start, end)` (and belong to `customer`, if set). */
async function normalizePage(
  list: readonly unknown[],
  call: string,
  window: { start: number; end: number },
  query: RecordWindowQuery,
  counter: OccurrenceCounter,
): Promise<KefuRecord[]> {
  const records: KefuRecord[] = [];
  let count = 0;
  for (const item of list) {
    if (++count % RECORDS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    const raw = validateRaw(item, call);
    if (raw.time < window.start || raw.time >= window.end) continue;
    const identity = recordIdentity(query.appId, raw);
    const occurrence = counter.next(identity, raw.time);
    if (query.customer && raw.openid !== query.customer) continue;
    records.push(normalizeRecord(query.appId, raw, item as JsonValue, occurrence, identity));
  }
  return records;
}

/** A request sent before its page is needed; its failure is reported when it is awaited. */
function readAhead<T>(request: Promise<T>): Promise<T> {
  request.catch(() => undefined);
  return request;
}

/**
 * Pages of `getmsglist`, paging on `msgid`. Assumption (API-NOTES: msgid starts at 1 and
 * ascends): `msgid` numbers the records of the window `[starttime, endtime]` in time
 * order, so request `msgid = m` returns records m, m+1, …; the next request asks for
 * m + (records returned). That is right whether the response's cursor is inclusive or
 * exclusive (the boundary record is never delivered twice), and the response cursor is
 * only used to stop when it does not advance. Because records are ordered by time,
 * numbering of a window's prefix does not change when a later sync extends `to`.
 * Records outside `[start, end)` (an inclusive `endtime`) are left to their own window.
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
   * Pages from `position` (null = the start of the query). The next page is requested
   * as soon as this one has arrived, before its records are normalized: the platform
   * serves it while kefu works, and there is still one request at a time per account.
   */
  async *pages(position: JsonValue, signal: AbortSignal, context: PageSourceContext = {}): AsyncGenerator<RecordPage> {
    const query = this.#query;
    const fetchPage = (windowStart: number, end: number, msgid: number) =>
      readAhead(
        this.#client.getMsgList(
          { starttime: windowStart, endtime: end, msgid, number: query.pageSize },
          { signal, onRetry: context.onRetry },
        ),
      );
    let current = parsePosition('msglist', position, query);
    let pending: ReturnType<typeof fetchPage> | undefined;
    while (current.windowStart < query.to) {
      const boundary = this.#splitter.nextBoundary(current.windowStart);
      const end = Math.min(boundary, query.to);
      const counter = new OccurrenceCounter(current.seen);
      let cursor = current.cursor;
      let lastResponseCursor = Number.NEGATIVE_INFINITY;
      while (true) {
        const response = await (pending ?? fetchPage(current.windowStart, end, cursor));
        pending = undefined;
        const list = response.recordlist;
        const next = cursor + list.length;
        const responseCursor = response.msgid;
        const advancing =
          list.length > 0 &&
          (responseCursor === undefined || (responseCursor >= cursor && responseCursor > lastResponseCursor));
        const windowDone = list.length < query.pageSize || !advancing;
        if (!windowDone) pending = fetchPage(current.windowStart, end, next);
        else if (end === boundary && boundary < query.to) {
          pending = fetchPage(boundary, Math.min(this.#splitter.nextBoundary(boundary), query.to), 1);
        }
        const records = await normalizePage(list, 'getmsglist', { start: current.windowStart, end }, query, counter);
        const seen = counter.snapshot();
        if (windowDone && end === boundary) {
          // A whole day is read: the next one starts fresh.
          yield { records, position: toJson({ api: 'msglist', windowStart: boundary, cursor: 1 }) };
          current = { api: 'msglist', windowStart: boundary, cursor: 1 };
          break;
        }
        const after: WechatPosition = {
          api: 'msglist',
          windowStart: current.windowStart,
          cursor: next,
          ...(seen ? { seen } : {}),
        };
        yield { records, position: toJson(after) };
        if (windowDone) return; // `to` cuts this window: a later sync continues it from `after`.
        cursor = next;
        lastResponseCursor = responseCursor ?? lastResponseCursor;
      }
    }
  }
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
    let current = parsePosition(api, position, query);
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
        const after: WechatPosition =
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
