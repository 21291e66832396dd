import { usageError } from './cli-errors.js';

const RELATIVE = /^(?:-)?(\d+)\s*(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * Parses a `--from`/`--to` value: an ISO-8601 date or date-time (`2026-11-01`,
 * `2026-11-01T08:00:00+08:00`), `now`, or a duration before now (`7d`, `12h`, `30m`, `2w`).
 * Date-only values are midnight UTC.
 */
export function parseTimeArgument(flag: string, value: string, now: number = Date.now()): Date {
  const trimmed = value.trim();
  if (trimmed === 'now') return new Date(now);
  const relative = RELATIVE.exec(trimmed);
  if (relative) {
    const amount = Number(relative[1]);
    const unit = relative[2] as keyof typeof UNIT_MS;
    return new Date(now - amount * UNIT_MS[unit]);
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const parsed = new Date(trimmed.length === 10 ? `${trimmed}T00:00:00Z` : trimmed);
    if (!Number.isNaN(parsed.getTime())) return parsed;
  }
  throw usageError(
    `${flag} "${value}" is not a time`,
    `give an ISO date (2026-11-01), a date-time (2026-11-01T08:00:00+08:00), "now", or a duration before now (7d, 12h, 30m)`,
  );
}

/** Checks that `from` is not after `to`. */
export function checkTimeRange(from: Date, to: Date): void {
  if (from.getTime() > to.getTime()) {
    throw usageError(
      `--from ${from.toISOString()} is after --to ${to.toISOString()}`,
      'swap the two values or widen the range',
    );
  }
}
