import type { KefuRecord } from './record.js';
import { abortError } from './retry.js';

/**
 * Bounding a stream's buffers by bytes. Page and batch counts alone do not bound memory:
 * a page of 2 000 records of 100 kB each is 200 MB. {@link pipeToSinks} holds every
 * record it read in a {@link ByteBudget} until its batch is committed, and the stream
 * requests the next page only while the bytes held are below the budget's limit.
 */

/** Bytes a string costs beyond its characters (V8 header and the reference to it), roughly. */
const STRING_OVERHEAD = 16;
/** Bytes a number, boolean, null or reference costs, roughly. */
const SLOT = 8;

/**
 * An estimate of the memory a JSON-like value holds: two bytes per string character
 * (a string with any non-Latin-1 character is stored as UTF-16) plus fixed costs per
 * value, key and element. Cheap (one walk, no allocation) and monotone in the data, not
 * exact: it is what the byte budgets count.
 */
export function estimateValueBytes(value: unknown): number {
  if (typeof value === 'string') return STRING_OVERHEAD + 2 * value.length;
  if (typeof value !== 'object' || value === null) return SLOT;
  let bytes = 2 * SLOT;
  if (Array.isArray(value)) {
    for (const item of value) {
      bytes += SLOT + (typeof item === 'string' ? STRING_OVERHEAD + 2 * item.length : estimateValueBytes(item));
    }
    return bytes;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    const item = object[key];
    // Strings inline: they are most values, and the call per value was half the cost.
    bytes +=
      SLOT +
      STRING_OVERHEAD +
      key.length +
      (typeof item === 'string' ? STRING_OVERHEAD + 2 * item.length : estimateValueBytes(item));
  }
  return bytes;
}

/** The fixed part of a record's estimate: its object, keys and the short fields' overheads. */
const RECORD_FIXED_BYTES = 2 * SLOT + 12 * (SLOT + 2 * STRING_OVERHEAD + 8);

/**
 * {@link estimateValueBytes} of a record, roughly: its string fields by length, `raw` and
 * any attachment walked. The known fields are read directly instead of enumerated (this
 * runs for every record a sync reads).
 */
export function estimateRecordBytes(record: KefuRecord): number {
  // Records are estimated before validation: any field may have any type.
  const fields: Readonly<Record<string, unknown>> = record;
  let bytes =
    RECORD_FIXED_BYTES +
    2 *
      (lengthOf(fields.id) +
        lengthOf(fields.provider) +
        lengthOf(fields.account) +
        lengthOf(fields.customer) +
        lengthOf(fields.at) +
        lengthOf(fields.agent) +
        lengthOf(fields.text)) +
    estimateValueBytes(fields.raw);
  // Named reads, not a loop over the names: a read by a computed key missed V8's inline
  // caches and was a third of this function's cost (most records have no attachment).
  if (fields.media !== undefined) bytes += estimateValueBytes(fields.media);
  if (fields.link !== undefined) bytes += estimateValueBytes(fields.link);
  if (fields.location !== undefined) bytes += estimateValueBytes(fields.location);
  if (fields.card !== undefined) bytes += estimateValueBytes(fields.card);
  if (fields.miniprogram !== undefined) bytes += estimateValueBytes(fields.miniprogram);
  if (fields.quote !== undefined) bytes += estimateValueBytes(fields.quote);
  return bytes;
}

function lengthOf(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

/**
 * Bytes held by a pipeline's buffers, against a limit. Holders call `hold` when data
 * enters a buffer and `release` when it leaves; a producer awaits `whenBelowLimit()`
 * before producing more. Producing one unit more once below the limit keeps the pipeline
 * moving even when a single unit is larger than the limit, so the bytes held stay at
 * most the limit plus one unit.
 */
export class ByteBudget {
  readonly #limit: number;
  #held = 0;
  #peak = 0;
  readonly #waiters = new Set<() => void>();

  /** @param limit bytes; must be a positive finite number. */
  constructor(limit: number) {
    if (!(Number.isFinite(limit) && limit > 0))
      throw new RangeError(`a byte budget needs a positive limit, got ${limit}`);
    this.#limit = limit;
  }

  /** The limit in bytes. */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes held now. */
  get held(): number {
    return this.#held;
  }

  /** The most bytes held at any time so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Counts `bytes` entering a buffer. */
  hold(bytes: number): void {
    this.#held += bytes;
    if (this.#held > this.#peak) this.#peak = this.#held;
  }

  /** Counts `bytes` leaving a buffer; wakes producers once the held bytes are below the limit. */
  release(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
    if (this.#held < this.#limit && this.#waiters.size > 0) {
      const waiters = [...this.#waiters];
      this.#waiters.clear();
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once the held bytes are below the limit (at once when they are); rejects when `signal` aborts. */
  async whenBelowLimit(signal?: AbortSignal): Promise<void> {
    while (this.#held >= this.#limit) {
      if (signal?.aborted) throw abortError(signal);
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          this.#waiters.delete(wake);
          resolve();
        };
        signal?.addEventListener('abort', wake, { once: true });
        this.#waiters.add(wake);
      });
    }
    if (signal?.aborted) throw abortError(signal);
  }
}
