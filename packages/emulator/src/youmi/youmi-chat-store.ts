import type { EmulatorClock } from '../platform.js';
import { hash32, unitFloat } from '../seeded-random.js';
import {
  type ChatCore,
  type ChatFilter,
  chatMatches,
  FAN_ID_BLOCK,
  serverMessageId,
  type YoumiDataset,
} from './youmi-data.js';
import type { ResolvedYoumiOptions, ResolvedYoumiReadings } from './youmi-options.js';
import { hasFraction } from './youmi-time.js';

/**
 * Every chat of the emulated platform: the generated history (computed on demand by the
 * data set) plus chats written at run time, and the late uploads — chats with an old time
 * that appear only when the clock reaches their arrival, with a new id (the reading
 * "late uploads" of the README). It answers GetChat under the current readings and gives
 * the ground truth.
 */

/** A late upload: a chat with an old time that the platform receives at `arriveAt`. */
export interface LateUpload {
  wechatId: number;
  fanIndex: number;
  /** The chat's own time, ms since epoch (usually long before `arriveAt`). */
  timeMs: number;
  /** When the platform receives it (emulator clock, ms). */
  arriveAt: number;
  content: string;
  fromAccount: boolean;
}

/** What a run-time chat needs; the id and (unless given) the time are the platform's. */
export interface NewChat {
  fromAccount: boolean;
  type: number;
  content: string;
  resvred?: Record<string, unknown> | null | undefined;
  staffCode?: string | null;
  /** The chat's time; default the clock's now. */
  timeMs?: number;
}

/** A GetChat query after the request is validated. */
export interface ChatQuery {
  startTimestamp?: number | null | undefined;
  endTimestamp?: number | null | undefined;
  minChattingId?: number | null | undefined;
}

/** Run-time chats and late uploads on top of the generated history. */
export class YoumiChatStore {
  // Run-time chats per `${wechatId}:${fanIndex}`, in the order they were written (= id order).
  readonly #written = new Map<string, ChatCore[]>();
  readonly #lastId = new Map<number, number>();
  // Late uploads not yet arrived, in arrival order.
  #pending: Array<LateUpload & { sequence: number }> = [];
  #sequence = 0;

  constructor(
    private readonly data: YoumiDataset,
    private readonly settings: ResolvedYoumiOptions,
    private readonly clock: EmulatorClock,
    private readonly readings: () => ResolvedYoumiReadings,
  ) {
    this.#seedLateUploads();
  }

  /** Schedules a late upload; it becomes visible (and gets its id) when the clock reaches `arriveAt`. */
  scheduleLateUpload(upload: LateUpload): void {
    this.#pending.push({ ...upload, sequence: ++this.#sequence });
    this.#pending.sort((a, b) => a.arriveAt - b.arriveAt || a.sequence - b.sequence);
    this.arrive();
  }

  /** Late uploads still waiting for their arrival time. */
  pendingLateUploads(): LateUpload[] {
    this.arrive();
    return this.#pending.map(({ sequence: _sequence, ...upload }) => upload);
  }

  /** Writes every late upload whose arrival time has come, in arrival order (ids follow that order). */
  arrive(): void {
    const now = this.clock.now();
    while (this.#pending.length > 0 && (this.#pending[0] as LateUpload).arriveAt <= now) {
      const upload = this.#pending.shift() as LateUpload;
      this.#write(upload.wechatId, upload.fanIndex, {
        fromAccount: upload.fromAccount,
        type: 1,
        content: upload.content,
        staffCode: null,
        timeMs: upload.timeMs,
      });
    }
  }

  /** Writes a chat now, with an id above every chat of its fan (and, under `time` ids, of its account). */
  append(wechatId: number, fanIndex: number, chat: NewChat): ChatCore {
    this.arrive();
    return this.#write(wechatId, fanIndex, chat);
  }

  #write(wechatId: number, fanIndex: number, chat: NewChat): ChatCore {
    const now = this.clock.now();
    const key = `${wechatId}:${fanIndex}`;
    const written = this.#written.get(key) ?? [];
    let id: number;
    if (this.readings().chatIds === 'fan') {
      id = (fanIndex + 1) * FAN_ID_BLOCK + this.data.generatedChatCount(wechatId, fanIndex) + written.length;
    } else {
      id = Math.max((this.#lastId.get(wechatId) ?? 0) + 1, this.data.chatIdAt(Math.floor(now / 1000), fanIndex));
      this.#lastId.set(wechatId, id);
    }
    const timeMs = chat.timeMs ?? now;
    const ticks = hash32(this.settings.seed, 'youmi-written-ticks', wechatId, id) % 10_000;
    const core: ChatCore = {
      id,
      wechatId,
      fanIndex,
      fromAccount: chat.fromAccount,
      type: chat.type,
      content: chat.content,
      resvred: chat.resvred ?? null,
      timeMs,
      ticks,
      updatedMs: now,
      staffCode: chat.staffCode ?? null,
      messageId: serverMessageId(this.settings.seed, 'youmi-live-msg', wechatId, id),
    };
    written.push(core);
    this.#written.set(key, written);
    return core;
  }

  /** A written chat as served now: formats without fraction digits carry whole seconds. */
  #served(chat: ChatCore): ChatCore {
    if (hasFraction(this.readings().timeFormat)) return chat;
    return {
      ...chat,
      timeMs: Math.floor(chat.timeMs / 1000) * 1000,
      updatedMs: Math.floor(chat.updatedMs / 1000) * 1000,
      ticks: 0,
    };
  }

  /** Written chats of a fan matching `filter`, in id order. */
  #writtenChats(wechatId: number, fanIndex: number, filter: ChatFilter): ChatCore[] {
    return (this.#written.get(`${wechatId}:${fanIndex}`) ?? [])
      .map((chat) => this.#served(chat))
      .filter((chat) => chatMatches(chat, filter));
  }

  /**
   * One GetChat page of a fan under the current readings: bounds and cursor applied as the
   * `startBound`, `endBound` and `minChattingId` readings say, rows in `chatOrder`, then
   * `offset` / `limit` (`pageIndex` / `pageSize`).
   */
  page(wechatId: number, fanIndex: number, query: ChatQuery, offset: number, limit: number): ChatCore[] {
    this.arrive();
    const filter = this.#filterOf(query);
    const order = this.readings().chatOrder;
    if (order === 'id') {
      // Generated chats have smaller ids than written ones: page through both without sorting.
      const generated = this.data.generatedChats(wechatId, fanIndex, filter, offset, limit);
      const written = this.#writtenChats(wechatId, fanIndex, filter);
      const remaining = limit - generated.chats.length;
      const writtenOffset = Math.max(0, offset - generated.total);
      return remaining > 0
        ? [...generated.chats, ...written.slice(writtenOffset, writtenOffset + remaining)]
        : generated.chats;
    }
    // Time orders interleave late uploads with the history: sort the fan's matching chats (O(n)).
    const all = [
      ...this.data.generatedChats(wechatId, fanIndex, filter, 0, Number.MAX_SAFE_INTEGER).chats,
      ...this.#writtenChats(wechatId, fanIndex, filter),
    ].sort((a, b) => a.timeMs - b.timeMs || a.ticks - b.ticks || a.id - b.id);
    if (order === 'time-desc') all.reverse();
    return all.slice(offset, offset + limit);
  }

  /** Ground truth: the visible chats of a fan with `from <= time <= to` (ms), in id order. */
  truth(wechatId: number, fanIndex: number, fromMs: number, toMs: number): ChatCore[] {
    this.arrive();
    const filter: ChatFilter = { afterStart: (t) => t >= fromMs, beforeEnd: (t) => t <= toMs };
    return [
      ...this.data.generatedChats(wechatId, fanIndex, filter, 0, Number.MAX_SAFE_INTEGER).chats,
      ...this.#writtenChats(wechatId, fanIndex, filter),
    ];
  }

  /** Every visible chat of a fan, unfiltered, in id order (reports). */
  everything(wechatId: number, fanIndex: number): ChatCore[] {
    return this.truth(wechatId, fanIndex, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }

  #filterOf(query: ChatQuery): ChatFilter {
    const readings = this.readings();
    const filter: ChatFilter = {};
    // 0 / null mean "no bound", as the seed's example body sends 0 for unused fields.
    if (query.startTimestamp) {
      const start = query.startTimestamp * 1000;
      filter.afterStart = readings.startBound === 'inclusive' ? (t) => t >= start : (t) => t > start;
    }
    if (query.endTimestamp) {
      const end = query.endTimestamp * 1000;
      filter.beforeEnd = readings.endBound === 'inclusive' ? (t) => t <= end : (t) => t < end;
    }
    if (query.minChattingId) {
      const cursor = query.minChattingId;
      filter.aboveCursor = readings.minChattingId === 'exclusive' ? (id) => id > cursor : (id) => id >= cursor;
    }
    return filter;
  }

  /** The `lateUploads` option: seeded late uploads per account, arriving over `lateUploadWindowMs`. */
  #seedLateUploads(): void {
    const { seed, lateUploads, lateUploadWindowMs } = this.settings;
    const historyMs = (this.data.windowEndSecond - this.data.windowStartSecond) * 1000;
    const start = this.data.windowEndSecond * 1000;
    for (const { wechatId } of this.data.accounts) {
      for (let index = 0; index < lateUploads; index++) {
        const fanIndex = hash32(seed, 'youmi-late-fan', wechatId, index) % this.data.fanCount;
        const timeMs =
          this.data.windowStartSecond * 1000 +
          Math.floor(unitFloat(seed, 'youmi-late-time', wechatId, index) * historyMs);
        const arriveAt =
          start + Math.floor(unitFloat(seed, 'youmi-late-arrival', wechatId, index) * lateUploadWindowMs);
        this.#pending.push({
          wechatId,
          fanIndex,
          timeMs,
          arriveAt,
          content: `补传的消息 #${index + 1}`,
          fromAccount: unitFloat(seed, 'youmi-late-direction', wechatId, index) < 0.5,
          sequence: ++this.#sequence,
        });
      }
    }
    this.#pending.sort((a, b) => a.arriveAt - b.arriveAt || a.sequence - b.sequence);
  }
}
