/**
 * Fast `Date#toISOString`: providers format one timestamp per record. A module of its own,
 * without dependencies, so the emulator can use it too (`@kefu/core/iso-timestamp`).
 */

/** Zero-padded two-digit strings 00–99. */
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : String(n)));
/** Latest ms of 9999-12-31: the end of the range the fast path formats itself. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
// Records arrive ordered by time, so consecutive calls almost always share a day, and
// often a minute.
let cachedDay = Number.NaN;
let cachedDayPrefix = '';
let cachedMinute = Number.NaN;
let cachedMinutePrefix = '';
/** `ss.000Z` for each second: the whole-second timestamps platforms give (unix seconds × 1000). */
const WHOLE_SECOND_SUFFIXES: readonly string[] = TWO_DIGITS.slice(0, 60).map((second) => `${second}.000Z`);

/**
 * `new Date(epochMs).toISOString()` (`2026-11-01T08:30:00.000Z`), several times faster for
 * the years 1970–9999: a provider formats one timestamp per record, and `Date` cost as
 * much as the rest of normalizing one. Outside that range it is `Date`'s own result
 * (including its `RangeError` for an invalid time); a property test holds the two equal.
 * The result is the minute's cached `yyyy-MM-ddTHH:mm:` and a short `ss.SSSZ` copied into
 * one flat string: every record keeps its timestamp, and a string concatenated from nine
 * parts kept eight intermediate strings alive with it (about 290 bytes per record, now 40).
 */
export function toIsoTimestamp(epochMs: number): string {
  if (!(epochMs >= 0 && epochMs <= LAST_FOUR_DIGIT_YEAR_MS) || !Number.isInteger(epochMs)) {
    return new Date(epochMs).toISOString();
  }
  const minute = Math.floor(epochMs / MINUTE_MS);
  if (minute !== cachedMinute) {
    cachedMinutePrefix = isoMinutePrefix(minute);
    cachedMinute = minute;
  }
  const rest = epochMs - minute * MINUTE_MS;
  const second = Math.floor(rest / 1000);
  const millis = rest - second * 1000;
  if (millis === 0) return flatConcat(cachedMinutePrefix, WHOLE_SECOND_SUFFIXES[second] as string);
  const millisText = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : String(millis);
  return flatConcat(cachedMinutePrefix, `${TWO_DIGITS[second]}.${millisText}Z`);
}

/**
 * `head + tail` as one flat string: V8 joins an array's strings by copying them, where
 * `+` makes a two-part string that is copied flat later anyway (by the first regular
 * expression or `JSON.stringify` to read it) and stays alive beside its copy.
 */
function flatConcat(head: string, tail: string): string {
  return [head, tail].join('');
}

/** `yyyy-MM-ddTHH:mm:` of a minute since the epoch (years 1970–9999). */
function isoMinutePrefix(minute: number): string {
  const day = Math.floor((minute * MINUTE_MS) / DAY_MS);
  if (day !== cachedDay) {
    cachedDayPrefix = isoDatePrefix(day);
    cachedDay = day;
  }
  const minuteOfDay = minute - day * 1440;
  const hour = Math.floor(minuteOfDay / 60);
  return `${cachedDayPrefix}${TWO_DIGITS[hour]}:${TWO_DIGITS[minuteOfDay - hour * 60]}:`;
}

/** `yyyy-MM-ddT` of a day since 1970-01-01 (civil-from-days, H. Hinnant; years 1970–9999). */
function isoDatePrefix(day: number): string {
  const shifted = day + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const dayOfMonth = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[dayOfMonth]}T`;
}
