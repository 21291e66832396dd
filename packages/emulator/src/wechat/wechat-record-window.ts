import {
  isChatMessage,
  messageIndex,
  messagesBefore,
  shanghaiDay,
  shanghaiDayStart,
  type WechatDataSet,
  type WechatRawRecord,
} from './wechat-data.js';
import type { MsgidLayout } from './wechat-msgids.js';

/**
 * One query window over an account's records: the seeded history plus the records the
 * emulator produced at run time (sent messages, session changes), numbered from 1 in
 * (time, generation) order, generated records before run-time ones within a second.
 * Half-open: records with start <= time < end, and never after the emulator clock.
 * Each record also carries its account-wide msgid (see wechat-msgids.ts), ascending with
 * its position.
 */

/** A record the emulator produced at run time, with the msgid it got then. */
export interface LiveRecord {
  record: WechatRawRecord;
  msgid: number;
}

/** A record of a window and its msgid. */
export interface WindowEntry {
  record: WechatRawRecord;
  msgid: number;
}

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
  readonly #live: LiveRecord[];
  readonly #livePositions: number[];
  readonly #msgids: MsgidLayout;

  constructor(data: WechatDataSet, query: RecordWindowQuery, live: readonly LiveRecord[], msgids: MsgidLayout) {
    this.#data = data;
    this.#query = query;
    this.#msgids = msgids;
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
      ({ record }) =>
        record.time >= query.start &&
        record.time < end &&
        (!query.messagesOnly || isChatMessage(record.opercode)) &&
        (query.openid === undefined || record.openid === query.openid),
    );
    this.#livePositions = this.#live.map(({ record }, j) => j + 1 + this.#generatedAtOrBefore(record.time));
    this.total = generated + this.#live.length;
  }

  /** Records at positions `from`, `from + 1` … (1-based), at most `limit`. */
  page(from: number, limit: number): WechatRawRecord[] {
    return this.entries(from, limit).map((entry) => entry.record);
  }

  /** Records and their msgids at positions `from`, `from + 1` … (1-based), at most `limit`. */
  entries(from: number, limit: number): WindowEntry[] {
    const out: WindowEntry[] = [];
    let j = this.#livePositionsBefore(from);
    let generatedRank = from - 1 - j;
    for (let position = from; position <= this.total && out.length < limit; position++) {
      if (this.#livePositions[j] === position) {
        out.push(this.#live[j] as LiveRecord);
        j++;
      } else {
        out.push(this.#generatedAt(generatedRank++));
      }
    }
    return out;
  }

  /** The first position whose msgid is at least `msgid` (`total + 1` when none): a binary search, ids ascend. */
  firstPositionWithMsgidAtLeast(msgid: number): number {
    let lo = 1;
    let hi = this.total + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries(mid, 1)[0] as WindowEntry).msgid < msgid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** How many run-time records sit at positions before `position`. */
  #livePositionsBefore(position: number): number {
    let lo = 0;
    let hi = this.#livePositions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#livePositions[mid] as number) < position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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

  #generatedAt(rank: number): WindowEntry {
    let k = rank;
    for (const segment of this.#segments) {
      if (k < segment.count) {
        const index = segment.indices
          ? (segment.indices[k] as number)
          : this.#query.messagesOnly
            ? messageIndex(messagesBefore(segment.lo) + k)
            : segment.lo + k;
        const account = this.#query.account;
        const record = this.#data.record(account, segment.day, index);
        return { record, msgid: this.#msgids.seeded(account, segment.day, index, record.time) };
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
