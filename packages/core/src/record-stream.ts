import { Observable, type Subscriber, type TeardownLogic } from 'rxjs';
import { type ByteBudget, estimateRecordBytes } from './byte-budget.js';
import { type Checkpoint, CheckpointSchema } from './checkpoint.js';
import { coreError } from './errors.js';
import { isPlainValidRecord, type JsonValue, type KefuRecord, KefuRecordSchema, type StreamKey } from './record.js';
import { abortError } from './retry.js';
import { formatZodIssue, zodIssueList } from './zod-issues.js';

/**
 * Record streams: cold, ordered, resumable and backpressured.
 *
 * A provider supplies a {@link PageSource}: an async iterable of pages, each with the
 * provider's resumable `position` after it. Core turns it into a {@link RecordStream},
 * which is at once an RxJS `Observable<KefuRecord>` and a pull source of pages and
 * batches. Both views fetch through one bounded prefetcher: at most `prefetchPages`
 * pages are fetched ahead of what the consumer has taken, because RxJS itself has no
 * backpressure (see docs/concepts/streams-and-checkpoints.md).
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
  pages(position: JsonValue, signal: AbortSignal, context?: PageSourceContext): AsyncIterable<RecordPage>;
}

/** A retry a provider made on its own (a busy platform, a refreshed token, a reset connection). */
export interface ProviderRetry {
  attempt: number;
  delayMs: number;
  error: unknown;
}

/**
 * Something a provider noticed that lost nothing but deserves a look (a platform answer
 * that disagrees with itself, a documented ambiguity resolved one way). Syncs count them.
 */
export interface ProviderWarning {
  /** A stable UPPER_SNAKE code with the provider's prefix (e.g. `WECHAT_MSGLIST_NUMBER_MISMATCH`). */
  code: string;
  /** What was seen and what kefu did about it. */
  message: string;
  /** Secret-free facts (the call, the values seen). */
  details?: Record<string, unknown>;
}

/** What a stream hands its page source besides the position: hooks for metrics. */
export interface PageSourceContext {
  /** Report every retry the provider makes while fetching, so syncs can count them. */
  onRetry?: (retry: ProviderRetry) => void;
  /** Report every warning, so syncs can count them and show them in their summary. */
  onWarning?: (warning: ProviderWarning) => void;
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
  /** With a byte budget (see {@link PullOptions.budget}): each record's estimated bytes, held in the budget. */
  readonly recordBytes?: readonly number[];
}

/** A batch of records with the checkpoint after its last record. */
export interface StreamBatch {
  readonly records: readonly KefuRecord[];
  readonly checkpoint: Checkpoint;
  /** With a byte budget: the records' estimated bytes, held in the budget until the consumer releases them. */
  readonly bytes?: number;
}

/** A record the stream refused: it does not match the record schema or belongs to another stream. */
export interface InvalidRecord {
  /** The stream it came from. */
  readonly stream: StreamKey;
  /** The record as the provider emitted it (its `raw` platform payload included). */
  readonly record: unknown;
  /** Why, in one line: every problem as `path: message`, joined by `; `. */
  readonly reason: string;
  /** The problems one by one (at most 20). */
  readonly issues: ReadonlyArray<{ path: string; message: string }>;
}

/** Tuning of a record stream. */
export interface RecordStreamOptions {
  /** Pages fetched ahead of consumption, at most (default 2, at least 1). */
  prefetchPages?: number;
  /** Validate every record against the record schema (default true). */
  validate?: boolean;
  /** Called once per fetched page (for metrics and tests). */
  onPageFetched?: (info: { records: number; position: JsonValue }) => void;
  /** Called for every retry the provider makes while fetching (for metrics). */
  onRetry?: (retry: ProviderRetry) => void;
  /**
   * Without it an invalid record fails the stream with KEFU_RECORD_INVALID. With it the
   * record is left out and handed here; the page is delivered only after the returned
   * promise settles (so a dead letter is durable before any checkpoint passes the record),
   * and the checkpoints of the records around it still count it, so resuming neither
   * repeats nor loses a record.
   */
  onInvalidRecord?: (invalid: InvalidRecord) => void | Promise<void>;
  /** Called for every warning the provider reports while fetching. */
  onWarning?: (warning: ProviderWarning) => void;
}

/** Options of the pull views. */
export interface PullOptions {
  /** Stops fetching when aborted; the iterator then throws KEFU_SYNC_ABORTED. */
  signal?: AbortSignal;
  /**
   * Bounds the pages fetched ahead by bytes as well as by count: each fetched page's
   * records are held in the budget (estimated with {@link estimateRecordBytes}), and the
   * next page is requested only while the held bytes are below its limit. The consumer
   * releases them (records a resume or validation leaves out are released here). Without
   * one, only `prefetchPages` bounds the pages ahead.
   */
  budget?: ByteBudget;
}

/** Options of {@link RecordStream.batches}. */
export interface BatchOptions extends PullOptions {
  /** Records per batch, at most (default 500). */
  size?: number;
  /** A partial batch is released after this long without reaching `size` (default: never). */
  maxWaitMs?: number;
  /** With a `budget`: a batch is also cut once its records' estimated bytes reach this (default: never). */
  maxBytes?: number;
}

/**
 * Grants the Observable view permission to emit: reactive-streams `request(n)` for RxJS.
 * A stream subscribed with a demand emits only as many records as were requested, and
 * so fetches pages only as the consumer makes room.
 */
export class Demand {
  #credits: number;
  // Several subscriptions may share one Demand: every waiter re-checks the credits.
  readonly #waiters = new Set<() => void>();

  /** Starts with `initial` credits. */
  constructor(initial = 0) {
    this.#credits = Number.isFinite(initial) && initial > 0 ? Math.floor(initial) : 0;
  }

  /** Allows `count` more records to be emitted (non-positive or non-finite counts are ignored). */
  request(count: number): void {
    if (!(count > 0) || !Number.isFinite(count)) return;
    this.#credits += Math.floor(count);
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
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
        const wake = () => {
          signal.removeEventListener('abort', onAbort);
          this.#waiters.delete(wake);
          resolve();
        };
        const onAbort = () => wake();
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiters.add(wake);
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
  readonly #onFetched: ((page: RecordPage) => void) | undefined;
  readonly #budget: { budget: ByteBudget; signal: AbortSignal } | undefined;
  readonly #buffer: Array<Promise<IteratorResult<FetchedPage>>> = [];
  #finished = false;

  constructor(
    iterator: AsyncIterator<RecordPage>,
    limit: number,
    onFetched?: (page: RecordPage) => void,
    budget?: { budget: ByteBudget; signal: AbortSignal },
  ) {
    this.#iterator = iterator;
    this.#limit = limit;
    this.#onFetched = onFetched;
    this.#budget = budget;
  }

  /** The next page (or done); starts fetching ahead up to the limit. */
  next(): Promise<IteratorResult<FetchedPage>> {
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
      const request: Promise<IteratorResult<FetchedPage>> = (
        previous ? previous.then((result) => (result.done ? result : this.#pull())) : this.#pull()
      ) as Promise<IteratorResult<FetchedPage>>;
      // Avoid unhandled rejections for pages fetched ahead; the consumer sees the error.
      request.catch(() => undefined);
      this.#buffer.push(request);
    }
  }

  async #pull(): Promise<IteratorResult<FetchedPage>> {
    if (this.#finished) return { done: true, value: undefined };
    // Requested only while the bytes held are below the budget's limit.
    if (this.#budget) await this.#budget.budget.whenBelowLimit(this.#budget.signal);
    const result = await this.#iterator.next();
    if (result.done) return { done: true, value: undefined };
    const page = result.value;
    let sizes: number[] | undefined;
    if (this.#budget) {
      sizes = page.records.map(estimateRecordBytes);
      let bytes = 0;
      for (const size of sizes) bytes += size;
      this.#budget.budget.hold(bytes);
    }
    this.#onFetched?.(page);
    return { done: false, value: { page, sizes } };
  }

  /** Stops fetching and lets the source release its resources (its `finally` blocks run). */
  async close(): Promise<void> {
    this.#finished = true;
    this.#buffer.length = 0;
    await this.#iterator.return?.();
  }
}

/** A page as the prefetcher holds it: with its records' estimated bytes when a budget counts them. */
interface FetchedPage {
  page: RecordPage;
  sizes: number[] | undefined;
}

/** The sum of `sizes[start..end)`. */
function sumOf(sizes: readonly number[], start = 0, end = sizes.length): number {
  let total = 0;
  for (let index = start; index < end; index++) total += sizes[index] as number;
  return total;
}

/** Settles like `promise`, or rejects with KEFU_SYNC_ABORTED as soon as `signal` aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // Nobody waits for `promise` now, but it may still fail (its source sees the abort):
    // an unhandled rejection would end the process instead of a clean stop (Ctrl-C, exit 130).
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** An AbortController that also aborts when `outer` does; `dispose` unlinks it. */
function linkedController(outer: AbortSignal | undefined): { controller: AbortController; dispose(): void } {
  const controller = new AbortController();
  if (outer?.aborted) controller.abort(outer.reason);
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  return { controller, dispose: () => outer?.removeEventListener('abort', onOuterAbort) };
}

/** Both callbacks, one after the other (or whichever exists). */
function chain<T>(first: ((value: T) => void) | undefined, second: ((value: T) => void) | undefined) {
  if (!first || !second) return first ?? second;
  return (value: T) => {
    first(value);
    second(value);
  };
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
  readonly #onRetry: RecordStreamOptions['onRetry'];
  readonly #onInvalidRecord: RecordStreamOptions['onInvalidRecord'];
  readonly #onWarning: RecordStreamOptions['onWarning'];

  constructor(key: StreamKey, source: PageSource, resumeFrom?: Checkpoint, options: RecordStreamOptions = {}) {
    super();
    if (resumeFrom !== undefined) {
      const parsed = CheckpointSchema.safeParse(resumeFrom);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw coreError(
          'KEFU_CHECKPOINT_INVALID',
          `resume checkpoint for stream ${key.provider}/${key.account} is malformed: ${formatZodIssue(issue)}`,
        );
      }
      if (resumeFrom.provider !== key.provider || resumeFrom.account !== key.account) {
        throw coreError(
          'KEFU_CHECKPOINT_INVALID',
          `checkpoint of ${resumeFrom.provider}/${resumeFrom.account} cannot resume stream ${key.provider}/${key.account}`,
        );
      }
    }
    const prefetchPages = options.prefetchPages ?? 2;
    if (!Number.isInteger(prefetchPages) || prefetchPages < 1) {
      throw coreError('KEFU_CONFIG_INVALID', `prefetchPages must be an integer >= 1, got ${String(prefetchPages)}`);
    }
    this.key = key;
    this.#source = source;
    this.#resumeFrom = resumeFrom;
    this.#prefetchPages = prefetchPages;
    this.#validate = options.validate ?? true;
    this.#onPageFetched = options.onPageFetched;
    this.#onRetry = options.onRetry;
    this.#onInvalidRecord = options.onInvalidRecord;
    this.#onWarning = options.onWarning;
  }

  /** @internal Subscribing pulls pages and emits their records in order. */
  protected _subscribe(subscriber: Subscriber<KefuRecord>): TeardownLogic {
    return this.#drive(subscriber, undefined, (record) => record);
  }

  /** The checkpoint this stream resumes from, if any. */
  get resumeFrom(): Checkpoint | undefined {
    return this.#resumeFrom;
  }

  /**
   * The same stream (source, resume point) with other tuning: the sync pipeline uses it to
   * set `prefetchPages` and count pages, retries and warnings without the provider knowing.
   * `onPageFetched`, `onRetry` and `onWarning` callbacks are chained, not replaced;
   * `onInvalidRecord` too (both see the record, one after the other).
   */
  withOptions(options: RecordStreamOptions): RecordStream {
    const first = this.#onInvalidRecord;
    const second = options.onInvalidRecord;
    return new RecordStream(this.key, this.#source, this.#resumeFrom, {
      prefetchPages: options.prefetchPages ?? this.#prefetchPages,
      validate: options.validate ?? this.#validate,
      onPageFetched: chain(this.#onPageFetched, options.onPageFetched),
      onRetry: chain(this.#onRetry, options.onRetry),
      ...(first || second
        ? {
            onInvalidRecord: async (invalid: InvalidRecord) => {
              await first?.(invalid);
              await second?.(invalid);
            },
          }
        : {}),
      onWarning: chain(this.#onWarning, options.onWarning),
    });
  }

  /**
   * Pulls pages in order; at most `prefetchPages` are fetched ahead of the consumer.
   * Leaving the loop (break, return, throw) or aborting `signal` aborts the source's
   * signal and calls its iterator's `return()`, so providers release their sockets.
   */
  async *pages(options: PullOptions = {}): AsyncGenerator<StreamPage, void, undefined> {
    if (options.signal?.aborted) throw abortError(options.signal);
    const { controller, dispose } = linkedController(options.signal);
    const signal = controller.signal;

    const startPosition: JsonValue = this.#resumeFrom?.position ?? null;
    let toSkip = this.#resumeFrom?.skip ?? 0;
    let position = startPosition;
    let skipBase = toSkip;
    // Time of the last record delivered so far, so record-less checkpoints keep their lag.
    let lastAt = this.#resumeFrom?.recordAt;
    const source = this.#source.pages(startPosition, signal, this.#sourceContext())[Symbol.asyncIterator]();
    const onPageFetched = this.#onPageFetched;
    const budget = options.budget;
    const prefetcher = new BoundedPrefetcher(
      source,
      this.#prefetchPages,
      onPageFetched ? (page) => onPageFetched({ records: page.records.length, position: page.position }) : undefined,
      budget ? { budget, signal } : undefined,
    );
    try {
      while (true) {
        let result: IteratorResult<FetchedPage>;
        try {
          // Racing the abort keeps a source that is slow to notice it from blocking the consumer.
          result = await raceAbort(prefetcher.next(), signal);
        } catch (error) {
          // A source rejecting because we aborted it reports the abort, not its own AbortError.
          if (signal.aborted) throw abortError(signal);
          throw error;
        }
        if (signal.aborted) throw abortError(signal);
        if (result.done) return;
        const { page } = result.value;
        let sizes = result.value.sizes;
        let records = page.records;
        if (toSkip > 0) {
          // A resume inside a page: drop what the checkpoint says was delivered.
          const dropped = Math.min(toSkip, records.length);
          records = records.slice(dropped);
          toSkip -= dropped;
          if (sizes) {
            budget?.release(sumOf(sizes, 0, dropped));
            sizes = sizes.slice(dropped);
          }
        }
        // Where each kept record sat among the page's records (after the resume skip), so
        // the checkpoints after it count the records left out before it.
        let kept: number[] | undefined;
        if (this.#validate) {
          const filtered = await this.#validated(records);
          if (filtered) ({ records, kept } = filtered);
        }
        if (sizes && kept) {
          const all = sizes;
          sizes = kept.map((index) => all[index] as number);
          budget?.release(sumOf(all) - sumOf(sizes));
        }
        const before = position;
        const base = skipBase;
        const after = page.position;
        position = after;
        skipBase = toSkip;
        // The whole page was already delivered and the skip continues into the next one.
        if (records.length === 0 && toSkip > 0) continue;
        const pageRecords = records;
        const rawIndex = kept;
        lastAt = pageRecords.at(-1)?.at ?? lastAt;
        const pageLastAt = lastAt;
        yield {
          records: pageRecords,
          ...(sizes ? { recordBytes: sizes } : {}),
          checkpoint: this.#checkpoint(after, 0, pageLastAt),
          checkpointAfter: (index: number) =>
            index >= pageRecords.length - 1
              ? this.#checkpoint(after, 0, pageLastAt)
              : this.#checkpoint(
                  before,
                  base + (rawIndex ? (rawIndex[Math.max(0, index)] as number) : index) + 1,
                  pageRecords[Math.max(0, index)]?.at,
                ),
        };
      }
    } finally {
      dispose();
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
    const size = options.size ?? 500;
    if (!Number.isInteger(size) || size < 1) {
      throw coreError('KEFU_CONFIG_INVALID', `batch size must be an integer >= 1, got ${String(size)}`);
    }
    const maxWaitMs = options.maxWaitMs;
    if (maxWaitMs !== undefined && !(Number.isFinite(maxWaitMs) && maxWaitMs >= 0)) {
      throw coreError('KEFU_CONFIG_INVALID', `maxWaitMs must be a finite number >= 0, got ${String(maxWaitMs)}`);
    }
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (!(maxBytes > 0)) {
      throw coreError('KEFU_CONFIG_INVALID', `maxBytes must be a number > 0, got ${String(options.maxBytes)}`);
    }
    // Our own controller: leaving early must abort a page request in flight, not wait for it.
    const { controller, dispose } = linkedController(options.signal);
    const iterator = this.pages({
      signal: controller.signal,
      ...(options.budget ? { budget: options.budget } : {}),
    })[Symbol.asyncIterator]();
    let records: KefuRecord[] = [];
    // The records' estimated bytes, counted only with a budget (the pages then carry them).
    let bytes = 0;
    let pending: Promise<IteratorResult<StreamPage>> | undefined;
    // The checkpoint after everything taken so far, and whether a batch already carried it.
    let latest: Checkpoint | undefined;
    let latestDelivered = true;
    try {
      while (true) {
        pending ??= iterator.next();
        const next = await this.#raceWithTimeout(pending, records.length > 0 ? maxWaitMs : undefined);
        if (next === 'timeout') {
          yield { records, checkpoint: latest as Checkpoint, ...(options.budget ? { bytes } : {}) };
          records = [];
          bytes = 0;
          latestDelivered = true;
          continue;
        }
        pending = undefined;
        if (next.done) break;
        const page = next.value;
        const sizes = page.recordBytes;
        for (let index = 0; index < page.records.length; index++) {
          records.push(page.records[index] as KefuRecord);
          if (sizes) bytes += sizes[index] as number;
          if (records.length >= size || bytes >= maxBytes) {
            yield { records, checkpoint: page.checkpointAfter(index), ...(sizes ? { bytes } : {}) };
            records = [];
            bytes = 0;
          }
        }
        latest = page.checkpoint;
        latestDelivered = records.length === 0 && page.records.length > 0;
      }
      // The rest, or (after empty pages) a record-less batch that only advances the checkpoint.
      if (latest && !latestDelivered) yield { records, checkpoint: latest, ...(options.budget ? { bytes } : {}) };
    } finally {
      dispose();
      controller.abort();
      pending?.catch(() => undefined);
      await iterator.return?.(undefined);
    }
  }

  /**
   * The Observable view with the checkpoint of each record. With `demand`, emits only
   * requested records, so pages are fetched only as the consumer requests more
   * (at most `prefetchPages` ahead of the record being emitted).
   */
  positioned(options: { demand?: Demand } = {}): Observable<PositionedRecord> {
    return new Observable<PositionedRecord>((subscriber) =>
      this.#drive(subscriber, options.demand, (record, checkpoint) => ({ record, checkpoint: checkpoint() })),
    );
  }

  /** Pulls pages for one subscriber, emitting mapped records as demand allows; returns the teardown. */
  #drive<T>(
    subscriber: Subscriber<T>,
    demand: Demand | undefined,
    map: (record: KefuRecord, checkpoint: () => Checkpoint) => T,
  ): TeardownLogic {
    const controller = new AbortController();
    (async () => {
      const iterator = this.pages({ signal: controller.signal });
      let page: StreamPage | undefined;
      let index = 0;
      try {
        while (true) {
          // Take the credit before pulling the next page, so a page is only taken from
          // the prefetcher once the consumer asked for one of its records.
          if (demand) await demand.take(controller.signal);
          while (!page || index >= page.records.length) {
            const next = await iterator.next();
            if (next.done) {
              // Give back the credit taken for a record that never came (a shared Demand serves others).
              demand?.request(1);
              subscriber.complete();
              return;
            }
            page = next.value;
            index = 0;
          }
          if (subscriber.closed) return;
          const current = page;
          const at = index++;
          subscriber.next(map(current.records[at] as KefuRecord, () => current.checkpointAfter(at)));
        }
      } finally {
        await iterator.return(undefined);
      }
    })().catch((error: unknown) => {
      if (!controller.signal.aborted) subscriber.error(error);
    });
    return () => controller.abort();
  }

  /** The hooks handed to the page source: only those someone listens to. */
  #sourceContext(): PageSourceContext {
    return {
      ...(this.#onRetry ? { onRetry: this.#onRetry } : {}),
      ...(this.#onWarning ? { onWarning: this.#onWarning } : {}),
    };
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

  /**
   * Checks a page's records. Throws KEFU_RECORD_INVALID for the first invalid one, or,
   * with `onInvalidRecord`, hands each invalid one to it and returns the others with
   * their indexes (undefined when every record is valid).
   */
  async #validated(
    records: readonly KefuRecord[],
  ): Promise<{ records: readonly KefuRecord[]; kept: number[] } | undefined> {
    let kept: number[] | undefined;
    for (let index = 0; index < records.length; index++) {
      const record = records[index] as KefuRecord;
      const invalid = this.#problems(record);
      if (!invalid) {
        kept?.push(index);
        continue;
      }
      const id = String((record as { id?: unknown }).id).slice(0, 200);
      if (!this.#onInvalidRecord) {
        throw coreError(
          'KEFU_RECORD_INVALID',
          `provider ${this.key.provider} emitted an invalid record ${id} on ${this.key.account}: ${invalid.reason}`,
          { details: { recordId: id, issues: invalid.issues.slice(0, 5) } },
        );
      }
      kept ??= Array.from({ length: index }, (_, before) => before);
      await this.#onInvalidRecord({ stream: this.key, record, ...invalid });
    }
    return kept ? { records: kept.map((index) => records[index] as KefuRecord), kept } : undefined;
  }

  /** What is wrong with a record, formatted once; undefined when nothing is. */
  #problems(record: KefuRecord): Pick<InvalidRecord, 'reason' | 'issues'> | undefined {
    const result = isPlainValidRecord(record) ? undefined : KefuRecordSchema.safeParse(record);
    let issues: Array<{ path: string; message: string }> = [];
    if (result && !result.success) {
      issues = zodIssueList(result.error, 20, '(root)');
    } else if (record.provider !== this.key.provider || record.account !== this.key.account) {
      issues = [
        {
          path: 'provider/account',
          message: `belongs to ${record.provider}/${record.account}, not to stream ${this.key.provider}/${this.key.account}`,
        },
      ];
    }
    if (issues.length === 0) return undefined;
    return { reason: issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues };
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
