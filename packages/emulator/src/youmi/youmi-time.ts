/**
 * Youmi formats times as "yyyy-MM-dd HH:mm:ss" in China Standard Time (UTC+8, no DST),
 * the platform's local time; the emulator does the same for every time string.
 */

/** China Standard Time offset. */
export const YOUMI_UTC_OFFSET_MS = 8 * 3_600_000;

/** Formats ms since epoch as "yyyy-MM-dd HH:mm:ss" in UTC+8. */
export function formatYoumiTime(ms: number): string {
  return new Date(ms + YOUMI_UTC_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** Parses "yyyy-MM-dd HH:mm:ss" (UTC+8) back to ms since epoch; NaN when malformed. */
export function parseYoumiTime(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s) - YOUMI_UTC_OFFSET_MS;
}
