import type { JsonValue, KefuLogger, KefuRecord, PageSource, PageSourceContext, RecordPage } from '@kefu/core';
import { z } from 'zod';
import { normalizeChat, parseChat } from './chat-normalizer.js';
import { youmiError } from './errors.js';
import type { YoumiClient } from './youmi-client.js';

/**
 * The Youmi PageSource: one operating account's chats, fan by fan.
 *
 * GetChat needs a `fansKey`, so a pass enumerates the fan list (GetFansList, paged, in
 * the platform's stable order) and reads each fan's chats with the exclusive cursor
 * `minChattingId`. Up to `fanConcurrency` fans are fetched at once, but pages are emitted
 * strictly in fan-list order, so the stream is deterministic and a position is simple.
 *
 * Position after each page (compact, no per-fan map):
 * - `to`: exclusive upper time bound of the current pass (ms), fixed when the pass starts;
 * - `floor`: the pass's `minChattingId` for every fan: the `high` of the previous pass;
 * - `high`: highest `ad_chatting_id` read in this pass so far;
 * - `fan` / `key` / `after`: the fan-list index being read, its fansKey (to notice a
 *   shifted list) and the last chat id consumed of that fan;
 * - `done`: the pass is complete.
 *
 * Incremental runs: a later query (later `to`) resuming from a completed pass starts a
 * new pass with `floor = high`: every fan is read again but only chats above the
 * watermark come back, so nothing is re-read and nothing is skipped, provided that
 * ad_chatting_id ascends with time per account (the platform's ids do; API-NOTES) and
 * that a pass's `to` is not in the future (it is clamped to "now" when the pass starts,
 * so every chat it may return already existed when its fans were read).
 */

/** The resumable position of the Youmi record stream. */
export const YoumiPositionSchema = z.strictObject({
  v: z.literal(1),
  to: z.int().min(0),
  floor: z.int().min(0),
  high: z.int().min(0),
  fan: z.int().min(0),
  key: z.string().min(1).nullable(),
  after: z.int().min(0),
  done: z.boolean(),
});
/** The resumable position of the Youmi record stream. */
export type YoumiPosition = z.infer<typeof YoumiPositionSchema>;

/** What {@link YoumiPageSource} needs. */
export interface YoumiPageSourceOptions {
  client: YoumiClient;
  wechatId: number;
  /** Query range `[from, to)` in ms. */
  from: number;
  to: number;
  /** Read only this fan (query.customer). */
  fansKey?: string;
  pageSize: number;
  fanPageSize: number;
  fanConcurrency: number;
  timeZoneOffsetMinutes: number;
  /** The current time, to clamp a pass's `to` (injectable for tests). */
  now: () => number;
  /** Emit a record-less page after this many fans without records, so checkpoints advance. */
  progressEveryFans?: number;
  /** Receives a debug line when a pass starts and ends. */
  logger?: KefuLogger;
}

/** One GetChat response of one fan, normalized. */
interface FanPage {
  records: KefuRecord[];
  /** Highest chat id of the raw page (the next cursor), or the cursor when empty. */
  after: number;
  /** Highest id among records kept (in the time range), 0 when none. */
  high: number;
  last: boolean;
}

/** Parses a stored position, throwing YOUMI_CHECKPOINT_INVALID when it is not one of ours. */
export function parseYoumiPosition(value: JsonValue): YoumiPosition | null {
  if (value === null) return null;
  const parsed = YoumiPositionSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw youmiError(
      'YOUMI_CHECKPOINT_INVALID',
      `the resume position is not a Youmi position: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/**
 * Reads one fan's chats page by page. The first page is requested on construction, so
 * a window of readers fetches several fans at once; later pages only when asked for.
 */
class FanReader {
  readonly key: string;
  #after: number;
  #next: Promise<FanPage> | undefined;
  #finished = false;
  readonly #fetch: (key: string, after: number) => Promise<FanPage>;

  constructor(key: string, after: number, fetch: (key: string, after: number) => Promise<FanPage>) {
    this.key = key;
    this.#after = after;
    this.#fetch = fetch;
    this.#next = this.#request();
  }

  #request(): Promise<FanPage> {
    const request = this.#fetch(this.key, this.#after);
    // Prefetched pages may be dropped unread (abort): never an unhandled rejection.
    request.catch(() => undefined);
    return request;
  }

  /** The next page of this fan, or undefined when the fan is finished. */
  async take(): Promise<FanPage | undefined> {
    if (this.#finished) return undefined;
    const page = await (this.#next ?? this.#request());
    this.#next = undefined;
    // No progress means the platform ignored the cursor: stop rather than loop forever.
    if (page.last || page.after <= this.#after) this.#finished = true;
    this.#after = Math.max(this.#after, page.after);
    return page;
  }
}

/** The fan list, loaded page by page on demand; at most two pages are held. */
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

  /** Where `key` sits in the page around `near` (the list shifted), or undefined. */
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
    let state = parseYoumiPosition(position) ?? {
      v: 1 as const,
      to: queryTo,
      floor: 0,
      high: 0,
      fan: 0,
      key: null,
      after: 0,
      done: false,
    };
    while (true) {
      if (state.done) {
        // A completed pass: only a later `to` has anything new, above the watermark.
        if (queryTo <= state.to) return;
        const floor = Math.max(state.floor, state.high);
        state = { v: 1, to: queryTo, floor, high: floor, fan: 0, key: null, after: floor, done: false };
      }
      // A resumed pass finishes at its own `to`; a later query `to` then gets a pass of its own.
      for await (const page of this.#pass(state, signal, context.onRetry)) {
        state = page.position as YoumiPosition;
        yield page;
      }
    }
  }

  /** One pass over the fan list from `start`; ends with the `done` page. */
  async *#pass(
    start: YoumiPosition,
    signal: AbortSignal,
    onRetry: PageSourceContext['onRetry'],
  ): AsyncGenerator<RecordPage> {
    const options = this.#options;
    const { client, wechatId } = options;
    const fans = new FanList(
      options.fanPageSize,
      async (pageIndex) => {
        const page = await client.fansList({ wechatId, pageIndex, pageSize: options.fanPageSize }, signal, onRetry);
        return page.map((fan) => fan.fansKey);
      },
      options.fansKey,
    );
    const fetch = (key: string, after: number) => this.#fetchFanPage(key, after, start, signal, onRetry);

    let index = start.fan;
    let resumeAfter = start.after;
    if (start.key !== null) {
      // Resuming inside a fan: make sure the list did not shift under us.
      const keyThere = await fans.at(index);
      if (keyThere !== start.key) {
        const moved = await fans.find(start.key, index);
        if (moved !== undefined) index = moved;
        // The fan left the list: its remaining chats are gone with it; go on from here.
        else resumeAfter = start.floor;
      }
    }
    let high = start.high;
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
        const after = nextToOpen === index && start.key !== null ? resumeAfter : start.floor;
        window.push({ index: nextToOpen, reader: new FanReader(key, after, fetch) });
        nextToOpen += 1;
      }
    };
    const progressEvery = options.progressEveryFans ?? 50;
    let fansWithoutRecords = 0;
    const position = (fan: number, key: string | null, after: number, done = false): YoumiPosition => ({
      v: 1,
      to: start.to,
      floor: start.floor,
      high,
      fan,
      key,
      after,
      done,
    });

    options.logger?.debug('youmi pass started', { wechatId, fan: index, floor: start.floor, to: start.to });
    await fill();
    while (window.length > 0) {
      const head = window[0] as { index: number; reader: FanReader };
      let emitted = false;
      while (true) {
        const page = await head.reader.take();
        if (!page) break;
        high = Math.max(high, page.high);
        const finished = page.last;
        if (page.records.length > 0) {
          emitted = true;
          yield {
            records: page.records,
            position: finished
              ? position(head.index + 1, null, start.floor)
              : position(head.index, head.reader.key, page.after),
          };
        }
        if (finished) break;
      }
      window.shift();
      fansWithoutRecords = emitted ? 0 : fansWithoutRecords + 1;
      if (fansWithoutRecords >= progressEvery) {
        fansWithoutRecords = 0;
        yield { records: [], position: position(head.index + 1, null, start.floor) };
      }
      await fill();
    }
    options.logger?.debug('youmi pass complete', { wechatId, fans: nextToOpen, high });
    yield { records: [], position: position(nextToOpen, null, start.floor, true) };
  }

  async #fetchFanPage(
    key: string,
    after: number,
    pass: YoumiPosition,
    signal: AbortSignal,
    onRetry: PageSourceContext['onRetry'],
  ): Promise<FanPage> {
    const options = this.#options;
    // Whole seconds on the wire: the smallest second >= from, the largest second < to (inclusive bounds).
    const startTimestamp = Math.ceil(options.from / 1000);
    const endTimestamp = Math.ceil(pass.to / 1000) - 1;
    const rows = await options.client.getChatRaw(
      {
        wechatId: options.wechatId,
        fansKey: key,
        startTimestamp,
        endTimestamp,
        ...(after > 0 ? { minChattingId: after } : {}),
        pageSize: options.pageSize,
        pageIndex: 1,
      },
      signal,
      onRetry,
    );
    // The cursor is exclusive, but dedupe the boundary anyway and never trust the order.
    const fresh = rows
      .map((raw) => ({ raw, chat: parseChat(raw) }))
      .filter(({ chat }) => chat.ad_chatting_id > after)
      .sort((a, b) => a.chat.ad_chatting_id - b.chat.ad_chatting_id);
    const records: KefuRecord[] = [];
    let high = 0;
    for (const { raw, chat } of fresh) {
      const record = normalizeChat(raw, {
        timeZoneOffsetMinutes: options.timeZoneOffsetMinutes,
        account: String(options.wechatId),
      });
      const at = Date.parse(record.at);
      // The platform's bounds are whole seconds: keep exactly [from, to).
      if (at < options.from || at >= pass.to) continue;
      records.push(record);
      high = Math.max(high, chat.ad_chatting_id);
    }
    const last = fresh.at(-1);
    return {
      records,
      after: last ? last.chat.ad_chatting_id : after,
      high,
      last: rows.length < options.pageSize,
    };
  }
}
