import { Observable, type Subscriber, type TeardownLogic } from 'rxjs';
import type { Checkpoint } from './checkpoint.js';
import { coreError } from './errors.js';
import { type JsonValue, type KefuRecord, KefuRecordSchema, type StreamKey } from './record.js';
import { abortError } from './retry.js';

/**
 * Record streams: cold, ordered, resumable and backpressured.
 *
 * A provider supplies a {@link PageSource}: an async iterable of pages, each with the
 * provider's resumable `position` after it. Core turns it into a {@link RecordStream},
 * which is at once an RxJS `Observable<KefuRecord>` and a pull source of pages and
 * batches. Both views fetch through one bounded prefetcher: at most `prefetchPages`
 * pages are fetched ahead of what the consumer has taken, because RxJS itself has no
 * backpressure (see docs/concepts/streams.md).
 */

/** One page as a provider fetched it. */
export interface RecordPage {
  /** The page's records in checkpoint order. */
  readonly records: readonly KefuRecord[];
  /** Provider state after this page: re-opening the source here yields the pages that follow. */
  readonly position: JsonValue;
}

/**
 * What a provider implements to stream records. `pages(position)` must be deterministic:
 * opened twice at the same position, it yields the same records in the same order
 * (records added since may follow). `position` is `null` for the start of the query.
 */
export interface PageSource {
  pages(position: JsonValue, signal: AbortSignal): AsyncIterable<RecordPage>;
}

/** A record with the checkpoint just after it. */
export interface PositionedRecord {
  readonly record: KefuRecord;
  readonly checkpoint: Checkpoint;
}

/** A page as the consumer sees it: resume-skips applied, checkpoints attached. */
export interface StreamPage {
  readonly records: readonly KefuRecord[];
  /** The checkpoint after the last record of this page. */
  readonly checkpoint: Checkpoint;
  /** The checkpoint after `records[index]`. */
  checkpointAfter(index: number): Checkpoint;
}

/** A batch of records with the checkpoint after its last record. */
export interface StreamBatch {
  readonly records: readonly KefuRecord[];
  readonly checkpoint: Checkpoint;
}

/** Tuning of a record stream. */
export interface RecordStreamOptions {
  /** Pages fetched ahead of consumption, at most (default 2, at least 1). */
  prefetchPages?: number;
  /** Validate every record against the record schema (default true). */
  validate?: boolean;
  /** Called once per fetched page (for metrics and tests). */
  onPageFetched?: (info: { records: number; position: JsonValue }) => void;
}

/** Options of the pull views. */
export interface PullOptions {
  /** Stops fetching when aborted; the iterator then throws KEFU_SYNC_ABORTED. */
  signal?: AbortSignal;
}

/** Options of {@link RecordStream.batches}. */
export interface BatchOptions extends PullOptions {
  /** Records per batch, at most (default 500). */
  size?: number;
  /** A partial batch is released after this long without reaching `size` (default: never). */
  maxWaitMs?: number;
}

/**
 * Grants the Observable view permission to emit: reactive-streams `request(n)` for RxJS.
 * A stream subscribed with a demand emits only as many records as were requested, and
 * so fetches pages only as the consumer makes room.
 */
export class Demand {
  #credits: number;
  #waiter: (() => void) | undefined;

  /** Starts with `initial` credits. */
  constructor(initial = 0) {
    this.#credits = initial;
  }

  /** Allows `count` more records to be emitted. */
  request(count: number): void {
    if (!(count > 0)) return;
    this.#credits += count;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  /** Credits not used yet. */
  get outstanding(): number {
    return this.#credits;
  }

  /** @internal Takes one credit, waiting until one is requested. */
  async take(signal: AbortSignal): Promise<void> {
    while (this.#credits <= 0) {
      if (signal.aborted) throw abortError(signal);
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiter = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
    this.#credits -= 1;
  }
}

/**
 * Pulls pages from a source with at most `limit` fetched and not yet taken.
 * The only place that calls the provider, so both views share its bound.
 */
class BoundedPrefetcher {
  readonly #iterator: AsyncIterator<RecordPage>;
  readonly #limit: number;
  readonly #buffer: Array<Promise<IteratorResult<RecordPage>>> = [];
  #finished = false;

  constructor(iterator: AsyncIterator<RecordPage>, limit: number) {
    this.#iterator = iterator;
    this.#limit = limit;
  }

  /** The next page (or done); starts fetching ahead up to the limit. */
  next(): Promise<IteratorResult<RecordPage>> {
    this.#fill();
    const head = this.#buffer.shift();
    if (!head) return Promise.resolve({ done: true, value: undefined });
    // Refill after this page is taken, keeping `limit` pages in flight or waiting.
    return head.then((result) => {
      if (result.done) this.#finished = true;
      else this.#fill();
      return result;
    });
  }

  #fill(): void {
    // Pages are requested one after another (a source is a sequential cursor walk),
    // so chain each request on the previous one.
    while (!this.#finished && this.#buffer.length < this.#limit) {
      const previous = this.#buffer.at(-1);
      const request: Promise<IteratorResult<RecordPage>> = previous
        ? previous.then((result) => (result.done ? result : this.#iterator.next()))
        : this.#iterator.next();
      // Avoid unhandled rejections for pages fetched ahead; the consumer sees the error.
      request.catch(() => undefined);
      this.#buffer.push(request);
    }
  }

  async close(): Promise<void> {
    this.#finished = true;
    this.#buffer.length = 0;
    await this.#iterator.return?.();
  }
}

/**
 * A cold stream of records. Subscribe (RxJS) or pull (`pages()`, `batches()`,
 * `for await`); each subscription or pull starts its own fetch from the resume point.
 *
 * @example
 * ```ts
 * const stream = provider.records({ from: '2026-11-01', to: '2026-11-02' });
 * stream.pipe(filter((r) => r.kind === 'text')).subscribe((r) => console.log(r.text));
 * for await (const batch of stream.batches({ size: 500 })) await sink.write(...);
 * ```
 */
export class RecordStream extends Observable<KefuRecord> implements AsyncIterable<StreamPage> {
  /** The provider and account this stream reads. */
  readonly key: StreamKey;
  readonly #source: PageSource;
  readonly #resumeFrom: Checkpoint | undefined;
  readonly #prefetchPages: number;
  readonly #validate: boolean;
  readonly #onPageFetched: RecordStreamOptions['onPageFetched'];

  constructor(key: StreamKey, source: PageSource, resumeFrom?: Checkpoint, options: RecordStreamOptions = {}) {
    super();
    if (resumeFrom && (resumeFrom.provider !== key.provider || resumeFrom.account !== key.account)) {
      throw coreError(
        'KEFU_CHECKPOINT_INVALID',
        `checkpoint of ${resumeFrom.provider}/${resumeFrom.account} cannot resume stream ${key.provider}/${key.account}`,
      );
    }
    this.key = key;
    this.#source = source;
    this.#resumeFrom = resumeFrom;
    this.#prefetchPages = Math.max(1, Math.floor(options.prefetchPages ?? 2));
    this.#validate = options.validate ?? true;
    this.#onPageFetched = options.onPageFetched;
  }

  /** @internal Subscribing pulls pages and emits their records in order. */
  protected _subscribe(subscriber: Subscriber<KefuRecord>): TeardownLogic {
    const controller = new AbortController();
    (async () => {
      for await (const page of this.pages({ signal: controller.signal })) {
        for (const record of page.records) {
          if (subscriber.closed) return;
          subscriber.next(record);
        }
      }
      subscriber.complete();
    })().catch((error: unknown) => {
      if (!controller.signal.aborted) subscriber.error(error);
    });
    return () => controller.abort();
  }

  /** The checkpoint this stream resumes from, if any. */
  get resumeFrom(): Checkpoint | undefined {
    return this.#resumeFrom;
  }

  /** Pulls pages in order; at most `prefetchPages` are fetched ahead of the consumer. */
  async *pages(options: PullOptions = {}): AsyncGenerator<StreamPage, void, undefined> {
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) throw abortError(options.signal);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });

    const startPosition: JsonValue = this.#resumeFrom?.position ?? null;
    let toSkip = this.#resumeFrom?.skip ?? 0;
    let position = startPosition;
    let skipBase = toSkip;
    const source = this.#source.pages(startPosition, controller.signal)[Symbol.asyncIterator]();
    const prefetcher = new BoundedPrefetcher(source, this.#prefetchPages);
    try {
      while (true) {
        const result = await prefetcher.next();
        if (controller.signal.aborted) throw abortError(controller.signal);
        if (result.done) return;
        const page = result.value;
        this.#onPageFetched?.({ records: page.records.length, position: page.position });
        let records = page.records;
        if (toSkip > 0) {
          // A resume inside a page: drop what the checkpoint says was delivered.
          const dropped = Math.min(toSkip, records.length);
          records = records.slice(dropped);
          toSkip -= dropped;
        }
        if (this.#validate) for (const record of records) this.#check(record);
        const before = position;
        const base = skipBase;
        const after = page.position;
        position = after;
        skipBase = toSkip;
        const lastAt = records.at(-1)?.at;
        if (records.length === 0 && toSkip > 0) continue;
        yield {
          records,
          checkpoint: this.#checkpoint(after, 0, lastAt),
          checkpointAfter: (index: number) =>
            index >= records.length - 1
              ? this.#checkpoint(after, 0, records.at(-1)?.at)
              : this.#checkpoint(before, base + index + 1, records[index]?.at),
        };
      }
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      controller.abort();
      await prefetcher.close().catch(() => undefined);
    }
  }

  /** Same as {@link pages}: `for await (const page of stream)`. */
  [Symbol.asyncIterator](): AsyncIterator<StreamPage> {
    return this.pages();
  }

  /** Pulls records regrouped into batches of at most `size`, releasing partial batches after `maxWaitMs`. */
  async *batches(options: BatchOptions = {}): AsyncGenerator<StreamBatch, void, undefined> {
    const size = Math.max(1, Math.floor(options.size ?? 500));
    const iterator = this.pages(options)[Symbol.asyncIterator]();
    let records: KefuRecord[] = [];
    let pending: Promise<IteratorResult<StreamPage>> | undefined;
    // The checkpoint after everything taken so far, and whether a batch already carried it.
    let latest: Checkpoint | undefined;
    let latestDelivered = true;
    try {
      while (true) {
        pending ??= iterator.next();
        const next = await this.#raceWithTimeout(pending, records.length > 0 ? options.maxWaitMs : undefined);
        if (next === 'timeout') {
          yield { records, checkpoint: latest as Checkpoint };
          records = [];
          latestDelivered = true;
          continue;
        }
        pending = undefined;
        if (next.done) break;
        const page = next.value;
        for (let index = 0; index < page.records.length; index++) {
          records.push(page.records[index] as KefuRecord);
          if (records.length >= size) {
            yield { records, checkpoint: page.checkpointAfter(index) };
            records = [];
          }
        }
        latest = page.checkpoint;
        latestDelivered = records.length === 0 && page.records.length > 0;
      }
      // The rest, or (after empty pages) a record-less batch that only advances the checkpoint.
      if (latest && !latestDelivered) yield { records, checkpoint: latest };
    } finally {
      await iterator.return?.(undefined);
    }
  }

  /** The Observable view with the checkpoint of each record. With `demand`, emits only requested records. */
  positioned(options: { demand?: Demand } = {}): Observable<PositionedRecord> {
    return new Observable<PositionedRecord>((subscriber) => {
      const controller = new AbortController();
      (async () => {
        for await (const page of this.pages({ signal: controller.signal })) {
          for (let index = 0; index < page.records.length; index++) {
            if (options.demand) await options.demand.take(controller.signal);
            if (subscriber.closed) return;
            subscriber.next({ record: page.records[index] as KefuRecord, checkpoint: page.checkpointAfter(index) });
          }
        }
        subscriber.complete();
      })().catch((error: unknown) => {
        if (!controller.signal.aborted) subscriber.error(error);
      });
      return () => controller.abort();
    });
  }

  #checkpoint(position: JsonValue, skip: number, recordAt: string | undefined): Checkpoint {
    return {
      provider: this.key.provider,
      account: this.key.account,
      position,
      skip,
      ...(recordAt ? { recordAt } : {}),
    };
  }

  #check(record: KefuRecord): void {
    const result = KefuRecordSchema.safeParse(record);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw coreError(
        'KEFU_RECORD_INVALID',
        `provider ${this.key.provider} emitted an invalid record ${String((record as { id?: unknown }).id)}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
        {
          details: {
            issues: result.error.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message })),
          },
        },
      );
    }
    if (record.provider !== this.key.provider || record.account !== this.key.account) {
      throw coreError(
        'KEFU_RECORD_INVALID',
        `record ${record.id} belongs to ${record.provider}/${record.account}, not to stream ${this.key.provider}/${this.key.account}`,
      );
    }
  }

  async #raceWithTimeout<T>(promise: Promise<T>, timeoutMs: number | undefined): Promise<T | 'timeout'> {
    if (timeoutMs === undefined) return promise;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
