import type { JsonValue, KefuLogger, KefuRecord, PageSource, PageSourceContext, RecordPage } from '@kefu/core';
import { formatZodIssue } from '@kefu/core';
import { z } from 'zod';
import { parseBeijingTime } from './beijing-time.js';
import { normalizeChat, parseChat } from './chat-normalizer.js';
import { youmiError } from './errors.js';
import type { YoumiClient } from './youmi-client.js';
import { FAN_KEY_FIELDS, firstText, type YoumiRow } from './youmi-schemas.js';

/**
 * The Youmi PageSource: one operating account's chats, fan by fan, with a cursor per fan.
 *
 * GetChat needs a `fansKey`, so a *pass* enumerates the fan list (GetFansList, paged) and
 * reads each fan. Up to `fanConcurrency` fans are fetched at once, but pages are emitted in
 * fan-list order, so the stream is deterministic. What a read asks for depends on the fan's
 * state, kept per fan in the position (docs/providers/youmi.md "Records"):
 *
 * - **none** (never read, or nothing at or after `from`): one query `startTimestamp = from`.
 * - **cursor `c`**: every chat of the fan with id <= c has been delivered or is before
 *   `from`; any other chat has a larger id. One query `minChattingId = c`, no lower time
 *   bound beyond `from`: a late upload (new id, old time) comes back on the next pass even
 *   when its time is before the previous pass's `to`.
 * - **bounded `m` up to `T`**: every chat in `[from, T)` that existed when the fan was last
 *   read was delivered, and a chat written since has an id > m. Two queries: `startTimestamp
 *   = T` (every id), and `minChattingId = m` with `endTimestamp = T` (late uploads).
 *
 * A pass sends `endTimestamp` only when its `to` is well in the past (a backfill): then the
 * fan ends *bounded* at the pass's `to`. Otherwise nothing above the fan's records is hidden,
 * and a fan whose records all lay before `to` ends with a plain *cursor*. Every query is paged
 * with `pageIndex` under a fixed cursor and fixed bounds, so the order of GetChat's rows does
 * not matter; rows are kept by local filters: id > the cursor (both readings of
 * `minChattingId`), `from <= time < to` (both readings of each bound: bounds are widened by a
 * second), and each query its own time side of `T`, so no row is delivered twice.
 */

/** Sent `endTimestamp` only when the pass's `to` is this far before its start (a backfill). */
export const BOUNDED_PASS_MIN_AGE_MS = 10 * 60_000;

/** Fan states per chunk of the position (see {@link YoumiPosition.prior}). */
const CHUNK_ENTRIES = 128;

/** The state of one fan: `c<id>` (cursor) or `b<id>.<T>` (bounded up to T ms), numbers in base 36. */
type FanState = { kind: 'cursor'; id: number } | { kind: 'bounded'; id: number; to: number };

/** Where a fan read stands inside its queries. */
const FanReadSchema = z.strictObject({
  /** The query: `q` (one query: none or cursor state), `a` (bounded: time >= T), `b` (bounded: late uploads). */
  q: z.enum(['q', 'a', 'b']),
  /** The next pageIndex of that query. */
  page: z.int().min(1),
  /** Highest chat id seen so far in this read (all queries). */
  seen: z.int().min(0),
  /** A chat at or after the pass's `to` was seen (and held back). */
  held: z.boolean(),
  /** Ids of the previous page: a row inserted before the offset shifts one of them onto the next page. */
  last: z.array(z.int()),
});

/** The resumable position of the Youmi record stream. */
export const YoumiPositionSchema = z.strictObject({
  v: z.literal(2),
  /** The query's `from` (ms) when the stream started: kept, so a resumed or later sync reads the same range. */
  from: z.int(),
  /** Exclusive upper time bound of the current pass (ms), fixed when it starts. */
  to: z.int(),
  /** Whether this pass sends `endTimestamp` (its `to` was well in the past when it started). */
  bounded: z.boolean(),
  /** Fan states from before this pass: chunks of `[fansKey, state, fansKey, state, …]`. */
  prior: z.array(z.array(z.string())),
  /** Fan states written by this pass so far, same encoding; they win over `prior`. */
  read: z.array(z.array(z.string())),
  /** Index in the fan list of the fan being read (or the next one). */
  fan: z.int().min(0),
  /** The fansKey being read (to notice a shifted list), or null between fans. */
  key: z.string().min(1).nullable(),
  /** Where the read of `key` stands, or null between fans. */
  at: FanReadSchema.nullable(),
  /** The pass has read every fan. */
  done: z.boolean(),
});
/** The resumable position of the Youmi record stream. */
export type YoumiPosition = z.infer<typeof YoumiPositionSchema>;
type FanRead = z.infer<typeof FanReadSchema>;

/** Parses a stored position, throwing YOUMI_CHECKPOINT_INVALID when it is not one of ours. */
export function parseYoumiPosition(value: JsonValue): YoumiPosition | null {
  if (value === null) return null;
  const parsed = YoumiPositionSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const old = typeof value === 'object' && !Array.isArray(value) && value.v === 1;
    throw youmiError(
      'YOUMI_CHECKPOINT_INVALID',
      old
        ? 'the resume position was written by an earlier @kefu/youmi (one cursor for the whole account, which could miss chats); delete the checkpoint and sync again from `from`'
        : `the resume position is not a Youmi position: ${formatZodIssue(issue)}`,
    );
  }
  return parsed.data;
}

function encodeState(state: FanState): string {
  return state.kind === 'cursor' ? `c${state.id.toString(36)}` : `b${state.id.toString(36)}.${state.to.toString(36)}`;
}

function decodeState(text: string): FanState {
  const match = /^(c|b)([0-9a-z]+)(?:\.([0-9a-z]+))?$/.exec(text);
  const id = match ? Number.parseInt(match[2] as string, 36) : Number.NaN;
  if (match?.[1] === 'c' && match[3] === undefined && Number.isSafeInteger(id)) return { kind: 'cursor', id };
  const to = match?.[3] === undefined ? Number.NaN : Number.parseInt(match[3], 36);
  if (match?.[1] === 'b' && Number.isSafeInteger(id) && Number.isSafeInteger(to)) return { kind: 'bounded', id, to };
  throw youmiError(
    'YOUMI_CHECKPOINT_INVALID',
    `the resume position holds an unreadable fan state ${JSON.stringify(text)}`,
  );
}

/** Reads chunks of `[fansKey, state, …]` into a map (later chunks win). */
function statesOf(chunks: readonly (readonly string[])[], into = new Map<string, FanState>()): Map<string, FanState> {
  for (const chunk of chunks) {
    for (let index = 0; index + 1 < chunk.length; index += 2) {
      into.set(chunk[index] as string, decodeState(chunk[index + 1] as string));
    }
  }
  return into;
}

/** Writes a map of states as chunks. */
function chunksOf(states: ReadonlyMap<string, FanState>): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  for (const [key, state] of states) {
    chunk.push(key, encodeState(state));
    if (chunk.length >= CHUNK_ENTRIES * 2) {
      chunks.push(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Appends one state to chunks without copying more than the last chunk (positions are immutable). */
function appendState(chunks: readonly string[][], key: string, state: FanState): string[][] {
  const last = chunks.at(-1);
  if (last && last.length < CHUNK_ENTRIES * 2) return [...chunks.slice(0, -1), [...last, key, encodeState(state)]];
  return [...chunks, [key, encodeState(state)]];
}

/** What {@link YoumiPageSource} needs. */
export interface YoumiPageSourceOptions {
  client: YoumiClient;
  wechatId: number;
  /** Query range `[from, to)` in ms; `from` is used only when the stream starts (see the position). */
  from: number;
  to: number;
  /** Read only this fan (query.customer). */
  fansKey?: string;
  pageSize: number;
  fanPageSize: number;
  fanConcurrency: number;
  /** The GetFansList field holding the fan key; default: the first present of {@link FAN_KEY_FIELDS}. */
  fanKeyField?: string;
  timeZoneOffsetMinutes: number;
  /** The current time, to clamp a pass's `to` and decide whether it is a backfill (injectable for tests). */
  now: () => number;
  /** Emit a record-less page after this many fans without records, so checkpoints advance. */
  progressEveryFans?: number;
  /** Receives a debug line when a pass starts and ends, and a warning when a resume ignores a new `from`. */
  logger?: KefuLogger;
}

/** One GetChat page of one fan's read, filtered and normalized. */
interface FanPage {
  records: KefuRecord[];
  /** The read after this page. */
  at: FanRead;
  /** No more pages in this read. */
  finished: boolean;
}

/** The queries of one fan read, given its state. */
interface FanQuery {
  q: FanRead['q'];
  startTimestamp?: number;
  endTimestamp?: number;
  minChattingId?: number;
  /** Local filter of this query's side of `T` (bounded reads): keep times >= (a) or < (b) it. */
  side?: { at: number; keep: 'at-or-after' | 'before' };
  /** Rows with id <= this were delivered before (or are before `from`). */
  cursor: number;
}

/**
 * Reads one fan: its queries in turn, each page by page with `pageIndex` under a fixed cursor
 * and fixed bounds. The first page is requested on construction, so a window of readers
 * fetches several fans at once; later pages only when asked for.
 */
class FanReader {
  readonly key: string;
  readonly state: FanState | undefined;
  #at: FanRead;
  #next: Promise<FanPage> | undefined;
  #finished = false;
  readonly #fetch: (reader: FanReader, at: FanRead) => Promise<FanPage>;

  constructor(
    key: string,
    state: FanState | undefined,
    at: FanRead,
    fetch: (reader: FanReader, at: FanRead) => Promise<FanPage>,
  ) {
    this.key = key;
    this.state = state;
    this.#at = at;
    this.#fetch = fetch;
    this.#next = this.#request();
  }

  #request(): Promise<FanPage> {
    const request = this.#fetch(this, this.#at);
    // Prefetched pages may be dropped unread (abort): never an unhandled rejection.
    request.catch(() => undefined);
    return request;
  }

  /** The read so far (after the last page taken). */
  get at(): FanRead {
    return this.#at;
  }

  /** The next page of this fan, or undefined when the read is finished. */
  async take(): Promise<FanPage | undefined> {
    if (this.#finished) return undefined;
    const page = await (this.#next ?? this.#request());
    this.#next = undefined;
    this.#at = page.at;
    if (page.finished) this.#finished = true;
    return page;
  }
}

/** The fan list, loaded page by page on demand; at most a few pages are held. */
class FanList {
  readonly #pages = new Map<number, string[]>();
  readonly #load: (pageIndex: number) => Promise<string[]>;
  readonly #pageSize: number;
  readonly #single: string | undefined;

  constructor(pageSize: number, load: (pageIndex: number) => Promise<string[]>, single?: string) {
    this.#pageSize = pageSize;
    this.#load = load;
    this.#single = single;
  }

  /** The fansKey at `index`, or undefined past the end. */
  async at(index: number): Promise<string | undefined> {
    if (this.#single !== undefined) return index === 0 ? this.#single : undefined;
    const pageIndex = Math.floor(index / this.#pageSize) + 1;
    let page = this.#pages.get(pageIndex);
    if (!page) {
      page = await this.#load(pageIndex);
      this.#pages.set(pageIndex, page);
      // Only the current and the next page are needed: the window never looks back.
      for (const held of this.#pages.keys()) if (held < pageIndex - 1) this.#pages.delete(held);
    }
    return page[index % this.#pageSize];
  }

  /** Where `key` sits in the pages around `near` (the list shifted), or undefined. */
  async find(key: string, near: number): Promise<number | undefined> {
    if (this.#single !== undefined) return key === this.#single ? 0 : undefined;
    const pageIndex = Math.floor(near / this.#pageSize) + 1;
    for (const candidate of [pageIndex - 1, pageIndex, pageIndex + 1]) {
      if (candidate < 1) continue;
      if (!this.#pages.has(candidate)) this.#pages.set(candidate, await this.#load(candidate));
      const offset = this.#pages.get(candidate)?.indexOf(key) ?? -1;
      if (offset >= 0) return (candidate - 1) * this.#pageSize + offset;
    }
    return undefined;
  }
}

/** The fan key of a GetFansList row (its shape was not seen: §2.4), or a typed error naming the fields seen. */
export function fanKeyOf(row: YoumiRow, field: string | undefined): string {
  const key = firstText(row, field ? [field] : FAN_KEY_FIELDS);
  if (key !== undefined) return key;
  throw youmiError(
    'YOUMI_BAD_ENVELOPE',
    `a GetFansList row has no fan key in ${field ? `\`${field}\`` : FAN_KEY_FIELDS.join(', ')} (fields seen: ${Object.keys(row).join(', ') || 'none'}); set fanKeyField to the field that holds the key GetChat takes`,
    { details: { path: '/v2/Friend/GetFansList', fields: Object.keys(row) } },
  );
}

/** The PageSource of one Youmi operating account. */
export class YoumiPageSource implements PageSource {
  readonly #options: YoumiPageSourceOptions;

  /** Reads `options.wechatId` through `options.client`. */
  constructor(options: YoumiPageSourceOptions) {
    this.#options = options;
  }

  /** Pages after `position` (null = start of the query), then further passes up to the query's `to`. */
  async *pages(position: JsonValue, signal: AbortSignal, context: PageSourceContext = {}): AsyncIterable<RecordPage> {
    const options = this.#options;
    const queryTo = Math.min(options.to, options.now());
    let state = parseYoumiPosition(position);
    if (state && state.from !== options.from) {
      options.logger?.warn('youmi resume keeps the range it started with', {
        wechatId: options.wechatId,
        from: new Date(state.from).toISOString(),
        ignoredFrom: new Date(options.from).toISOString(),
      });
    }
    state ??= this.#newPass(options.from, [], queryTo);
    while (true) {
      if (state.done) {
        // A completed pass: only a later `to` has anything new.
        if (queryTo <= state.to) return;
        state = this.#newPass(state.from, chunksOf(statesOf(state.read, statesOf(state.prior))), queryTo);
      }
      // A resumed pass finishes at its own `to`; a later query `to` then gets a pass of its own.
      for await (const page of this.#pass(state, signal, context.onRetry)) {
        state = page.position as YoumiPosition;
        yield page;
      }
    }
  }

  #newPass(from: number, prior: string[][], to: number): YoumiPosition {
    const bounded = to < this.#options.now() - BOUNDED_PASS_MIN_AGE_MS;
    return { v: 2, from, to, bounded, prior, read: [], fan: 0, key: null, at: null, done: false };
  }

  /**
   * One pass over the fan list from `start`; ends with the `done` page. One generator keeps the pass's position
   * and its yields in one place, so every yield carries the state to resume from.
   */
  async *#pass(
    start: YoumiPosition,
    signal: AbortSignal,
    onRetry: PageSourceContext['onRetry'],
  ): AsyncGenerator<RecordPage> {
    const options = this.#options;
    const { wechatId } = options;
    const prior = statesOf(start.prior);
    const readThisPass = statesOf(start.read);
    const fans = this.#fanList(signal, onRetry);
    const fetch = (reader: FanReader, at: FanRead) => this.#fetchFanPage(reader, at, start, signal, onRetry);
    const fresh = (state: FanState | undefined): FanRead => ({
      q: state?.kind === 'bounded' ? 'a' : 'q',
      page: 1,
      seen: state?.id ?? 0,
      held: false,
      last: [],
    });

    const { index, resumeAt } = await this.#resumePoint(fans, start);
    let read = start.read;
    const window: Array<{ index: number; reader: FanReader }> = [];
    let nextToOpen = index;
    let listEnded = false;
    const fill = async () => {
      while (!listEnded && window.length < options.fanConcurrency) {
        const key = await fans.at(nextToOpen);
        if (key === undefined) {
          listEnded = true;
          break;
        }
        const opening = nextToOpen;
        nextToOpen += 1;
        // A fan the list showed twice (it shifted mid-pass) is read once per pass.
        if (readThisPass.has(key) && !(opening === index && resumeAt)) continue;
        const state = prior.get(key);
        const at = opening === index && resumeAt ? resumeAt : fresh(state);
        window.push({ index: opening, reader: new FanReader(key, state, at, fetch) });
      }
    };
    const progressEvery = options.progressEveryFans ?? 50;
    let fansWithoutRecords = 0;
    const position = (fan: number, key: string | null, at: FanRead | null, done = false): YoumiPosition => ({
      ...start,
      read,
      fan,
      key,
      at,
      done,
    });

    options.logger?.debug('youmi pass started', { wechatId, fan: index, to: start.to, bounded: start.bounded });
    await fill();
    while (window.length > 0) {
      const head = window[0] as { index: number; reader: FanReader };
      let emitted = false;
      while (true) {
        const page = await head.reader.take();
        if (!page) break;
        if (page.finished) {
          const next = this.#stateAfter(head.reader.state, page.at, start);
          if (next) {
            read = appendState(read, head.reader.key, next);
            readThisPass.set(head.reader.key, next);
          }
        }
        if (page.records.length > 0) {
          emitted = true;
          yield {
            records: page.records,
            position: page.finished
              ? position(head.index + 1, null, null)
              : position(head.index, head.reader.key, page.at),
          };
        }
        if (page.finished) break;
      }
      window.shift();
      fansWithoutRecords = emitted ? 0 : fansWithoutRecords + 1;
      if (fansWithoutRecords >= progressEvery) {
        fansWithoutRecords = 0;
        yield { records: [], position: position(head.index + 1, null, null) };
      }
      await fill();
    }
    options.logger?.debug('youmi pass complete', { wechatId, fans: nextToOpen });
    // The last position holds the states merged once: a finished pass is as small as a fresh one.
    const merged = chunksOf(statesOf(read, statesOf(start.prior)));
    yield { records: [], position: { ...position(nextToOpen, null, null, true), prior: merged, read: [] } };
  }

  /** The account's fan list, paged lazily through fansList. */
  #fanList(signal: AbortSignal, onRetry: PageSourceContext['onRetry']): FanList {
    const options = this.#options;
    const { client, wechatId } = options;
    return new FanList(
      options.fanPageSize,
      async (pageIndex) => {
        const rows = await client.fansList({ wechatId, pageIndex, pageSize: options.fanPageSize }, { signal, onRetry });
        return rows.map((row) => fanKeyOf(row, options.fanKeyField));
      },
      options.fansKey,
    );
  }

  /** Where a pass starts: its saved fan index and read, checked against a list that may have shifted. */
  async #resumePoint(fans: FanList, start: YoumiPosition): Promise<{ index: number; resumeAt: FanRead | undefined }> {
    let index = start.fan;
    let resumeAt: FanRead | undefined = start.at ?? undefined;
    if (start.key !== null) {
      // Resuming inside a fan: make sure the list did not shift under us.
      const keyThere = await fans.at(index);
      if (keyThere !== start.key) {
        const moved = await fans.find(start.key, index);
        if (moved !== undefined) index = moved;
        // The fan left the list: it keeps its state (its chats come when it is back); go on from here.
        else resumeAt = undefined;
      }
    }
    return { index, resumeAt };
  }

  /** A fan's state after a finished read (undefined: still none). */
  #stateAfter(before: FanState | undefined, at: FanRead, pass: YoumiPosition): FanState | undefined {
    const id = Math.max(before?.id ?? 0, at.seen);
    if (id === 0) return undefined;
    // Records at or after `to` were held back, or hidden by the end bound: the fan is complete up to `to` only.
    if (pass.bounded || at.held) return { kind: 'bounded', id, to: pass.to };
    return { kind: 'cursor', id };
  }

  /** The GetChat query of a fan read's current step. */
  #query(state: FanState | undefined, q: FanRead['q'], pass: YoumiPosition): FanQuery {
    // Bounds are widened by a second so both readings (inclusive / exclusive) keep what is wanted.
    const startOf = (ms: number) => Math.max(0, Math.floor(ms / 1000) - 1);
    const end = pass.bounded ? { endTimestamp: Math.ceil(pass.to / 1000) + 1 } : {};
    if (state?.kind === 'bounded' && q === 'a') {
      return { q, startTimestamp: startOf(state.to), ...end, side: { at: state.to, keep: 'at-or-after' }, cursor: 0 };
    }
    if (state?.kind === 'bounded' && q === 'b') {
      return {
        q,
        startTimestamp: startOf(pass.from),
        endTimestamp: Math.ceil(state.to / 1000) + 1,
        ...(state.id > 0 ? { minChattingId: state.id } : {}),
        side: { at: state.to, keep: 'before' },
        cursor: state.id,
      };
    }
    const cursor = state?.kind === 'cursor' ? state.id : 0;
    return { q, startTimestamp: startOf(pass.from), ...end, ...(cursor > 0 ? { minChattingId: cursor } : {}), cursor };
  }

  async #fetchFanPage(
    reader: FanReader,
    at: FanRead,
    pass: YoumiPosition,
    signal: AbortSignal,
    onRetry: PageSourceContext['onRetry'],
  ): Promise<FanPage> {
    const options = this.#options;
    const query = this.#query(reader.state, at.q, pass);
    const rows = await options.client.getChatRaw(
      {
        wechatId: options.wechatId,
        fansKey: reader.key,
        ...(query.startTimestamp !== undefined ? { startTimestamp: query.startTimestamp } : {}),
        ...(query.endTimestamp !== undefined ? { endTimestamp: query.endTimestamp } : {}),
        ...(query.minChattingId !== undefined ? { minChattingId: query.minChattingId } : {}),
        pageSize: options.pageSize,
        pageIndex: at.page,
      },
      { signal, onRetry },
    );
    const previous = new Set(at.last);
    const ids: number[] = [];
    const kept: Array<{ id: number; record: KefuRecord }> = [];
    let seen = at.seen;
    let held = at.held;
    let repeated = 0;
    for (const raw of rows) {
      const chat = parseChat(raw);
      const id = chat.ad_chatting_id;
      ids.push(id);
      // A row inserted before the offset shifts a row of the previous page onto this one.
      if (previous.has(id)) {
        repeated += 1;
        continue;
      }
      seen = Math.max(seen, id);
      // minChattingId may be inclusive or exclusive: drop the cursor itself and anything below.
      if (id <= query.cursor) continue;
      const time = parseBeijingTime(
        chat.ad_chatting_time,
        `ad_chatting_time of chat ${id}`,
        options.timeZoneOffsetMinutes,
      );
      if (query.side && (query.side.keep === 'before' ? time >= query.side.at : time < query.side.at)) continue;
      if (time < pass.from) continue;
      if (time >= pass.to) {
        held = true;
        continue;
      }
      if (kept.some((entry) => entry.id === id)) continue;
      kept.push({
        id,
        record: normalizeChat(raw, {
          timeZoneOffsetMinutes: options.timeZoneOffsetMinutes,
          account: String(options.wechatId),
        }),
      });
    }
    const full = rows.length >= options.pageSize;
    if (full && repeated === rows.length) {
      throw youmiError(
        'YOUMI_PAGING_INCONSISTENT',
        `GetChat of fan ${reader.key} answered page ${at.page} with the same ${rows.length} chats as page ${at.page - 1}: the server does not seem to page by pageIndex`,
        { details: { fansKey: reader.key, pageIndex: at.page } },
      );
    }
    kept.sort((a, b) => a.id - b.id);
    const records = kept.map((entry) => entry.record);
    if (full) return { records, at: { ...at, page: at.page + 1, seen, held, last: ids }, finished: false };
    // The query's last page: a bounded fan has a second query (late uploads), then the read is done.
    if (at.q === 'a') return { records, at: { q: 'b', page: 1, seen, held, last: [] }, finished: false };
    return { records, at: { ...at, page: at.page + 1, seen, held, last: [] }, finished: true };
  }
}
