import { youmiError } from './errors.js';

/**
 * One explicit parser for every time format the Youmi docs and examples show
 * (platforms/youmi-api.md §1.2): ISO-8601 with an offset (`2020-06-23T15:46:11.6561987+08:00`),
 * `YYYY-MM-DD HH:mm:ss` with 0–7 fraction digits (.NET `DateTime` text), `/` dates with
 * single-digit fields (`2018/5/11 14:47:48`), the same with a `T`, and Unix seconds or
 * milliseconds as digits. A time without a zone is Beijing time (UTC+8, no DST) unless told
 * otherwise; nothing is ever handed to `Date.parse`, so the host's zone cannot shift a time.
 */

/** Beijing time (China Standard Time): UTC+8, no daylight saving. */
export const BEIJING_OFFSET_MINUTES = 480;

/** `date [T| ] time [.fraction] [zone]`; date with `-` or `/`, one- or two-digit fields. */
const DATE_TIME =
  /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Minutes east of UTC of a zone designator (`Z`, `+08:00`, `+0800`, `+08`). */
function zoneMinutes(zone: string): number | undefined {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 14 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

/**
 * Milliseconds since the epoch of a Youmi time string, or `undefined` when the text is not
 * one of the documented formats (or names an impossible date). Zone-less times are read at
 * `offsetMinutes` east of UTC (Beijing time by default). Fraction digits beyond the
 * millisecond are dropped (truncated), as a `Date` cannot hold them.
 */
export function readBeijingTime(text: string, offsetMinutes: number = BEIJING_OFFSET_MINUTES): number | undefined {
  const value = text.trim();
  // Unix time as digits: 9–11 digits are seconds (1973–5138), 12–14 milliseconds.
  if (/^\d{9,11}$/.test(value)) return Number(value) * 1000;
  if (/^\d{12,14}$/.test(value)) return Number(value);
  const match = DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, y, , mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1) return undefined;
  if (day > (DAYS_IN_MONTH[month - 1] as number) || (month === 2 && day === 29 && !isLeapYear(year))) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = zone === undefined ? offsetMinutes : zoneMinutes(zone);
  if (offset === undefined) return undefined;
  const millisecond = Number(fraction.slice(0, 3).padEnd(3, '0'));
  // Date.UTC treats years 0–99 as 1900–1999; the pattern requires four digits, so only
  // 0000–0099 could be affected, and setUTCFullYear keeps them literal.
  const utc = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millisecond));
  utc.setUTCFullYear(year);
  return utc.getTime() - offset * 60_000;
}

/**
 * Like {@link readBeijingTime}, but an unreadable value is a typed `YOUMI_TIME_INVALID`
 * error naming `field` (e.g. `ad_chatting_time of chat 1000123`).
 */
export function parseBeijingTime(text: string, field: string, offsetMinutes: number = BEIJING_OFFSET_MINUTES): number {
  const parsed = readBeijingTime(text, offsetMinutes);
  if (parsed === undefined) {
    throw youmiError(
      'YOUMI_TIME_INVALID',
      `${field} is not a time in a format Youmi documents: ${JSON.stringify(text)} (expected e.g. "2018-05-11 15:40:14", "2018/5/11 14:47:48" or "2020-06-23T15:46:11.6561987+08:00")`,
      { details: { field, value: text } },
    );
  }
  return parsed;
}

/** Writes ms since epoch as `YYYY-MM-DD HH:mm:ss` in Beijing time (the Report and Ad request fields, §2.2, §2.6). */
export function formatBeijingTime(ms: number, offsetMinutes: number = BEIJING_OFFSET_MINUTES): string {
  const iso = new Date(ms + offsetMinutes * 60_000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** The Unix seconds of the Beijing-time midnight that starts the day holding `ms` (GetActivationListByStaff's `time`, §2.2). */
export function beijingMidnightSeconds(ms: number, offsetMinutes: number = BEIJING_OFFSET_MINUTES): number {
  const local = ms + offsetMinutes * 60_000;
  return (Math.floor(local / 86_400_000) * 86_400_000 - offsetMinutes * 60_000) / 1000;
}
