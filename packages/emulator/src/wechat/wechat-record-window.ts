import {
  isChatMessage,
  messageIndex,
  messagesBefore,
  shanghaiDay,
  shanghaiDayStart,
  type WechatDataSet,
  type WechatRawRecord,
} from './wechat-data.js';

/**
 * One query window over an account's records: the seeded history plus the records the
 * emulator produced at run time (sent messages, session changes), numbered from 1 in
 * (time, generation) order, generated records before run-time ones within a second.
 * Half-open: records with start <= time < end, and never after the emulator clock.
 */

/** What a window selects. */
export interface RecordWindowQuery {
  account: number;
  /** Unix seconds, inclusive. */
  start: number;
  /** Unix seconds, exclusive. */
  end: number;
  /** Only 2002/2003 (getmsglist); otherwise every opercode (getrecord APIs). */
  messagesOnly: boolean;
  openid?: string;
  /** Records after this Unix second do not exist yet. */
  nowSeconds: number;
}

interface Segment {
  day: number;
  lo: number;
  hi: number;
  /** Filtered records in this segment. */
  count: number;
  /** With an openid filter: the matching day indices. */
  indices?: number[];
}

/** A numbered, lazily generated window of records. */
export class RecordWindow {
  /** Number of records in the window. */
  readonly total: number;
  readonly #data: WechatDataSet;
  readonly #query: RecordWindowQuery;
  readonly #segments: Segment[] = [];
  readonly #generatedTotal: number;
  readonly #live: WechatRawRecord[];
  readonly #livePositions: number[];

  constructor(data: WechatDataSet, query: RecordWindowQuery, live: readonly WechatRawRecord[]) {
    this.#data = data;
    this.#query = query;
    const end = Math.min(query.end, query.nowSeconds + 1);
    let generated = 0;
    if (end > query.start) {
      const firstDay = Math.max(shanghaiDay(query.start), data.firstDay);
      const lastDay = Math.min(shanghaiDay(end - 1), data.lastDay);
      for (let day = firstDay; day <= lastDay; day++) {
        const lo = data.firstIndexAtOrAfter(query.account, day, Math.max(query.start, shanghaiDayStart(day)));
        const hi = data.firstIndexAtOrAfter(query.account, day, Math.min(end, shanghaiDayStart(day + 1)));
        if (hi <= lo) continue;
        const segment: Segment = { day, lo, hi, count: 0 };
        if (query.openid === undefined) segment.count = this.#countFiltered(lo, hi);
        else {
          segment.indices = this.#matchingIndices(day, lo, hi, query.openid);
          segment.count = segment.indices.length;
        }
        generated += segment.count;
        this.#segments.push(segment);
      }
    }
    this.#generatedTotal = generated;
    this.#live = live.filter(
      (record) =>
        record.time >= query.start &&
        record.time < end &&
        (!query.messagesOnly || isChatMessage(record.opercode)) &&
        (query.openid === undefined || record.openid === query.openid),
    );
    this.#livePositions = this.#live.map((record, j) => j + 1 + this.#generatedAtOrBefore(record.time));
    this.total = generated + this.#live.length;
  }

  /** Records at positions `from`, `from + 1` … (1-based), at most `limit`. */
  page(from: number, limit: number): WechatRawRecord[] {
    const out: WechatRawRecord[] = [];
    let j = 0;
    while (j < this.#livePositions.length && (this.#livePositions[j] ?? 0) < from) j++;
    let generatedRank = from - 1 - j;
    for (let position = from; position <= this.total && out.length < limit; position++) {
      if (this.#livePositions[j] === position) {
        out.push(this.#live[j] as WechatRawRecord);
        j++;
      } else {
        out.push(this.#generatedAt(generatedRank++));
      }
    }
    return out;
  }

  #countFiltered(lo: number, hi: number): number {
    return this.#query.messagesOnly ? messagesBefore(hi) - messagesBefore(lo) : hi - lo;
  }

  #matchingIndices(day: number, lo: number, hi: number, openid: string): number[] {
    const indices: number[] = [];
    // The customer is constant over a ten-record session block: test one index per block.
    for (let blockStart = lo - (lo % 10); blockStart < hi; blockStart += 10) {
      if (this.#data.customerAt(this.#query.account, day, blockStart) !== openid) continue;
      for (let index = Math.max(lo, blockStart); index < Math.min(hi, blockStart + 10); index++) {
        if (!this.#query.messagesOnly || messagesBefore(index + 1) > messagesBefore(index)) indices.push(index);
      }
    }
    return indices;
  }

  #generatedAt(rank: number): WechatRawRecord {
    let k = rank;
    for (const segment of this.#segments) {
      if (k < segment.count) {
        const index = segment.indices
          ? (segment.indices[k] as number)
          : this.#query.messagesOnly
            ? messageIndex(messagesBefore(segment.lo) + k)
            : segment.lo + k;
        return this.#data.record(this.#query.account, segment.day, index);
      }
      k -= segment.count;
    }
    throw new RangeError(`record rank ${rank} is outside the window (${this.#generatedTotal} records)`);
  }

  /** Generated records in the window with time <= t. */
  #generatedAtOrBefore(t: number): number {
    let count = 0;
    for (const segment of this.#segments) {
      const cut = Math.min(
        segment.hi,
        Math.max(segment.lo, this.#data.firstIndexAtOrAfter(this.#query.account, segment.day, t + 1)),
      );
      if (cut <= segment.lo) break;
      count += segment.indices
        ? segment.indices.filter((index) => index < cut).length
        : this.#countFiltered(segment.lo, cut);
      if (cut < segment.hi) break;
    }
    return count;
  }
}
