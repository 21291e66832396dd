/**
 * Fast `Date#toISOString`: providers format one timestamp per record. A module of its own,
 * without dependencies, so the emulator can use it too (`@kefu/core/iso-timestamp`).
 */

/** Zero-padded two-digit strings 00–99. */
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : String(n)));
/** Latest ms of 9999-12-31: the end of the range the fast path formats itself. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
const DAY_MS = 86_400_000;
// Records arrive ordered by time, so consecutive calls almost always share a day.
let cachedDay = Number.NaN;
let cachedDayPrefix = '';

/**
 * `new Date(epochMs).toISOString()` (`2026-11-01T08:30:00.000Z`), several times faster for
 * the years 1970–9999: a provider formats one timestamp per record, and `Date` cost as
 * much as the rest of normalizing one. Outside that range it is `Date`'s own result
 * (including its `RangeError` for an invalid time); a property test holds the two equal.
 */
export function toIsoTimestamp(epochMs: number): string {
  if (!(epochMs >= 0 && epochMs <= LAST_FOUR_DIGIT_YEAR_MS) || !Number.isInteger(epochMs)) {
    return new Date(epochMs).toISOString();
  }
  const day = Math.floor(epochMs / DAY_MS);
  if (day !== cachedDay) {
    cachedDayPrefix = isoDatePrefix(day);
    cachedDay = day;
  }
  let rest = epochMs - day * DAY_MS;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const millis = rest - second * 1000;
  const millisText = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : String(millis);
  return `${cachedDayPrefix}${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}.${millisText}Z`;
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
