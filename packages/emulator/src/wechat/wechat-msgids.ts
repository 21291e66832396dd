import { emulatorError } from '../errors.js';
import { BURST_FACTOR, shanghaiDayStart, type WechatDataSet } from './wechat-data.js';

/**
 * getmsglist message ids (API-NOTES "Records": a global, ascending message id; the official
 * examples answer 20165258 and 20165267). Every record of an account, of every opercode,
 * gets an id computed in O(1) from its time and its rank within its second, never
 * materialized:
 *
 *     msgid = MSGID_BASE + (time − epoch) × secondSpan + rank × MSGID_STRIDE + gap
 *
 * `gap` (0 … stride − 1, a hash) stands for other accounts' messages between two of this
 * account's. Seeded records of a second take ranks 0, 1, …; run-time records (sent
 * messages, session changes, customer messages) take the ranks after the most a second can
 * hold of seeded ones, in arrival order. So id order is (time, seeded before run-time,
 * arrival) order, the order the record APIs list records in.
 */

/** The lowest msgid (the docs' examples are around 2 × 10^7). */
export const MSGID_BASE = 20_000_000;
/** Ids per rank: each record's id is preceded by a gap of 0 … stride − 1 unused ids. */
export const MSGID_STRIDE = 8;
/** Clock advance the id layout must stay exact for beyond the seeded days (ten years). */
const ADVANCE_HEADROOM_DAYS = 3660;
const SECONDS_PER_DAY = 86_400;

/** What the layout is sized for. */
export interface MsgidLayoutOptions {
  recordsPerDay: number;
  days: number;
  /** Run-time records one account may create in one emulator second. */
  liveRecordsPerSecond: number;
}

/** The msgid layout of one emulator (see the module comment). */
export class MsgidLayout {
  /** Unix second of msgid `MSGID_BASE`: the first seeded day's start. */
  readonly epoch: number;
  /** Ranks reserved per second for seeded records: the most any second can hold. */
  readonly seededRanks: number;
  /** Ranks per second for run-time records. */
  readonly liveRanks: number;
  /** Ids per second. */
  readonly secondSpan: number;
  readonly #data: WechatDataSet;
  /** The first index of the last (account, day, second) asked for: a page walks one second after another. */
  #cache = { account: -1, day: -1, time: -1, first: 0 };

  /** A layout for `data`; throws EMULATOR_OPTIONS_INVALID when ids could exceed 2^53. */
  constructor(data: WechatDataSet, options: MsgidLayoutOptions) {
    this.#data = data;
    this.epoch = shanghaiDayStart(data.firstDay);
    // A day of n records puts at most ceil(n / 86400) + 1 of them in one second (recordTime).
    this.seededRanks = Math.ceil((options.recordsPerDay * BURST_FACTOR) / SECONDS_PER_DAY) + 1;
    this.liveRanks = options.liveRecordsPerSecond;
    this.secondSpan = (this.seededRanks + this.liveRanks) * MSGID_STRIDE;
    const lastId = MSGID_BASE + (options.days + ADVANCE_HEADROOM_DAYS) * SECONDS_PER_DAY * this.secondSpan;
    if (!Number.isSafeInteger(lastId)) {
      throw emulatorError(
        'EMULATOR_OPTIONS_INVALID',
        `wechat: recordsPerDay ${options.recordsPerDay}, days ${options.days} and liveRecordsPerSecond ${options.liveRecordsPerSecond} would give msgids beyond 2^53; lower one of them`,
      );
    }
  }

  /** The msgid of seeded record `index` of `day`, whose time is `time`. */
  seeded(account: number, day: number, index: number, time: number): number {
    const rank = index - this.#firstIndexOfSecond(account, day, time);
    return this.#id(time, rank, this.#data.msgidGap(account, day, index, MSGID_STRIDE));
  }

  /**
   * The msgid of the `ordinal`-th (0-based) run-time record an account created at `time`;
   * throws EMULATOR_ID_SPACE_EXHAUSTED past `liveRecordsPerSecond` (ids would leave time order).
   */
  live(account: number, time: number, ordinal: number): number {
    if (ordinal >= this.liveRanks) {
      throw emulatorError(
        'EMULATOR_ID_SPACE_EXHAUSTED',
        `account ${account} created more than ${this.liveRanks} run-time records in emulator second ${time}: raise wechat.liveRecordsPerSecond or advance the clock between bursts`,
      );
    }
    return this.#id(time, this.seededRanks + ordinal, this.#data.liveMsgidGap(account, time, ordinal, MSGID_STRIDE));
  }

  #id(time: number, rank: number, gap: number): number {
    return MSGID_BASE + (time - this.epoch) * this.secondSpan + rank * MSGID_STRIDE + gap;
  }

  #firstIndexOfSecond(account: number, day: number, time: number): number {
    const cache = this.#cache;
    if (cache.account !== account || cache.day !== day || cache.time !== time) {
      this.#cache = { account, day, time, first: this.#data.firstIndexAtOrAfter(account, day, time) };
    }
    return this.#cache.first;
  }
}
