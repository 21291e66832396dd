import type { RunningEmulator } from '@kefu/emulator';
import { DayWindowSplitter, OccurrenceCounter, recordId, recordIdentity } from '@kefu/wechat-mp/wire';

const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** Beijing midnight `days` days before the Beijing day of `now`. */
export function beijingMidnightDaysAgo(now: number, days: number): Date {
  const today = Math.floor((now + BEIJING_OFFSET_MS) / DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
  return new Date(today - days * DAY_MS);
}

/**
 * The ids the WeChat provider must emit for `[from, to)`: the emulator's ground truth run
 * through the provider's own id derivation (identity + occurrence within a Beijing day
 * window, see packages/wechat-mp/src/record-normalizer.ts).
 */
export function expectedWechatIds(emulator: RunningEmulator, appId: string, from: Date, to: Date): string[] {
  const ids: string[] = [];
  const splitter = new DayWindowSplitter();
  for (const window of splitter.windows(Math.ceil(from.getTime() / 1000), Math.ceil(to.getTime() / 1000))) {
    const counter = new OccurrenceCounter();
    const raws = emulator.wechat.expectedRecords({
      appId,
      from: new Date(window.start * 1000),
      to: new Date(window.end * 1000),
    });
    for (const raw of raws) {
      const identity = recordIdentity(appId, { ...raw });
      ids.push(recordId(identity, counter.next(identity, raw.time)));
    }
  }
  return ids;
}

/** The raw records of `[from, to)` with the id the provider derives for each (see {@link expectedWechatIds}). */
export function expectedWechatRecords(
  emulator: RunningEmulator,
  appId: string,
  from: Date,
  to: Date,
): Array<{ id: string; raw: { openid: string; time: number } }> {
  const out: Array<{ id: string; raw: { openid: string; time: number } }> = [];
  const splitter = new DayWindowSplitter();
  for (const window of splitter.windows(Math.ceil(from.getTime() / 1000), Math.ceil(to.getTime() / 1000))) {
    const counter = new OccurrenceCounter();
    const raws = emulator.wechat.expectedRecords({
      appId,
      from: new Date(window.start * 1000),
      to: new Date(window.end * 1000),
    });
    for (const raw of raws) {
      const identity = recordIdentity(appId, { ...raw });
      out.push({ id: recordId(identity, counter.next(identity, raw.time)), raw });
    }
  }
  return out;
}
