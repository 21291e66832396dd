/**
 * Youmi formats times as "yyyy-MM-dd HH:mm:ss" in China Standard Time (UTC+8, no DST),
 * the platform's local time; the emulator does the same for every time string.
 */

import { toIsoTimestamp } from '@kefu/core/iso-timestamp';

/** China Standard Time offset. */
export const YOUMI_UTC_OFFSET_MS = 8 * 3_600_000;

/** Formats ms since epoch as "yyyy-MM-dd HH:mm:ss" in UTC+8. */
export function formatYoumiTime(ms: number): string {
  // The arithmetic formatter (several times faster than Date), shifted to UTC+8 and cut
  // to whole seconds: GetChat formats two times per chat.
  const iso = toIsoTimestamp(Math.floor((ms + YOUMI_UTC_OFFSET_MS) / 1000) * 1000);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Parses "yyyy-MM-dd HH:mm:ss" (UTC+8) back to ms since epoch; NaN when malformed. */
export function parseYoumiTime(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s) - YOUMI_UTC_OFFSET_MS;
}
