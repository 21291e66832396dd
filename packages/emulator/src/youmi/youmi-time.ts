/**
 * Youmi formats times as "yyyy-MM-dd HH:mm:ss" in China Standard Time (UTC+8, no DST),
 * the platform's local time; the emulator does the same for every time string.
 */

/** China Standard Time offset. */
export const YOUMI_UTC_OFFSET_MS = 8 * 3_600_000;

/** Formats ms since epoch as "yyyy-MM-dd HH:mm:ss" in UTC+8. */
export function formatYoumiTime(ms: number): string {
  // Pure arithmetic (civil-from-days, H. Hinnant): several times faster than
  // Date#toISOString, and GetChat formats two times per chat.
  const seconds = Math.floor((ms + YOUMI_UTC_OFFSET_MS) / 1000);
  const days = Math.floor(seconds / 86_400);
  const secondOfDay = seconds - days * 86_400;
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  return `${year}-${two(month)}-${two(day)} ${two(hour)}:${two(minute)}:${two(secondOfDay % 60)}`;
}

function two(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** Parses "yyyy-MM-dd HH:mm:ss" (UTC+8) back to ms since epoch; NaN when malformed. */
export function parseYoumiTime(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s) - YOUMI_UTC_OFFSET_MS;
}
