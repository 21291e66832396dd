/**
 * Youmi writes times in China Standard Time (UTC+8, no DST). The docs show several
 * formats (platforms/youmi-api.md §1.2, §2.2): `yyyy-MM-dd HH:mm:ss`, ISO-8601 with
 * seven fraction digits and `+08:00` (`2020-06-23T15:46:11.6561987+08:00`) and
 * `2018/5/11 14:47:48`. The emulator writes whichever the `timeFormat` reading asks for.
 */

import { toIsoTimestamp } from '@kefu/core/iso-timestamp';
import type { ResolvedYoumiReadings } from './youmi-options.js';

/** China Standard Time offset. */
export const YOUMI_UTC_OFFSET_MS = 8 * 3_600_000;

/** A time format of the `timeFormat` reading. */
export type YoumiTimeFormat = ResolvedYoumiReadings['timeFormat'];

/** True for the formats that carry fraction digits (chats then get sub-second times). */
export function hasFraction(format: YoumiTimeFormat): boolean {
  return format === 'iso7' || format === 'fraction7';
}

/**
 * Formats ms since epoch in UTC+8. `subMillisecondTicks` (0–9999, units of 100 ns) fills
 * the last four of the seven fraction digits, as .NET's DateTime prints them.
 */
export function formatYoumiTime(ms: number, format: YoumiTimeFormat = 'space', subMillisecondTicks = 0): string {
  // The arithmetic formatter (several times faster than Date), shifted to UTC+8.
  const iso = toIsoTimestamp(ms + YOUMI_UTC_OFFSET_MS);
  const date = iso.slice(0, 10);
  const time = iso.slice(11, 19);
  const fraction = `${iso.slice(20, 23)}${String(subMillisecondTicks).padStart(4, '0')}`;
  switch (format) {
    case 'space':
      return `${date} ${time}`;
    case 'iso':
      return `${date}T${time}+08:00`;
    case 'iso7':
      return `${date}T${time}.${fraction}+08:00`;
    case 'fraction7':
      return `${date} ${time}.${fraction}`;
    case 'slash': {
      const [year, month, day] = date.split('-') as [string, string, string];
      const [hour, minute, second] = time.split(':') as [string, string, string];
      return `${year}/${Number(month)}/${Number(day)} ${Number(hour)}:${minute}:${second}`;
    }
  }
}

/** Parses "yyyy-MM-dd HH:mm:ss" (UTC+8) back to ms since epoch; NaN when malformed (Report / Ad request fields). */
export function parseYoumiTime(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s) - YOUMI_UTC_OFFSET_MS;
}
