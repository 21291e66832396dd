/** Beijing time is UTC+8 all year (no daylight saving). */
const BEIJING_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/**
 * When WeChat's daily API quotas reset after `now`: the next midnight in Beijing time
 * (16:00 UTC). An account stopped by errcode 45009 is due again then (plus a margin).
 */
export function nextQuotaReset(now: Date): Date {
  const beijing = now.getTime() + BEIJING_OFFSET_MS;
  const nextBeijingMidnight = (Math.floor(beijing / DAY_MS) + 1) * DAY_MS;
  return new Date(nextBeijingMidnight - BEIJING_OFFSET_MS);
}
