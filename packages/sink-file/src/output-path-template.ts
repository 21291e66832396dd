import { isAbsolute, resolve } from 'node:path';

/** The values a path template is rendered with. */
export interface OutputPathValues {
  provider: string;
  account: string;
  /** `YYYY-MM-DD` in the configured time zone. */
  day: string;
}

/** Keeps a template value inside its path segment: no separators, no `.`/`..` segments, no NUL. */
function toPathSegment(value: string): string {
  const cleaned = value.replace(/[/\\\0]/g, '_');
  return cleaned === '.' || cleaned === '..' || cleaned === '' ? '_' : cleaned;
}

/**
 * Renders output paths from a template such as `{provider}/{account}/{day}.jsonl`.
 * Values are sanitized so an account name can never escape the output directory.
 */
export class OutputPathTemplate {
  readonly #template: string;

  constructor(dir: string, template: string) {
    this.#template = isAbsolute(template) ? template : resolve(dir, template);
  }

  /** The path of one target without its part number: the key of one rotation series. */
  seriesKey(values: OutputPathValues): string {
    return this.render(values, '{part}');
  }

  /** Whether the template rotates by `{part}`. */
  get hasPart(): boolean {
    return this.#template.includes('{part}');
  }

  /** The path of part `part` (zero-padded to 4 digits) of a target. */
  render(values: OutputPathValues, part: number | '{part}'): string {
    return this.#template
      .replaceAll('{provider}', toPathSegment(values.provider))
      .replaceAll('{account}', toPathSegment(values.account))
      .replaceAll('{day}', values.day)
      .replaceAll('{part}', typeof part === 'number' ? String(part).padStart(4, '0') : part);
  }
}

/**
 * Maps a record's UTC timestamp to its calendar day in a time zone. UTC is a slice of the
 * ISO string; other zones go through Intl, cached per minute (zone offsets are whole minutes).
 */
export class DayFormatter {
  readonly #format: Intl.DateTimeFormat | undefined;
  readonly #cache = new Map<string, string>();

  constructor(timeZone: string) {
    this.#format =
      timeZone === 'UTC' || timeZone === 'Etc/UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  /** `YYYY-MM-DD` of an ISO-8601 UTC timestamp. */
  dayOf(isoTimestamp: string): string {
    if (!this.#format) return isoTimestamp.slice(0, 10);
    const minute = isoTimestamp.slice(0, 16);
    let day = this.#cache.get(minute);
    if (day === undefined) {
      day = this.#format.format(new Date(`${minute}:00Z`));
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(minute, day);
    }
    return day;
  }
}
