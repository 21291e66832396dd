import { Observable, type OperatorFunction } from 'rxjs';
import { ByteBudget } from './byte-budget.js';
import type { Checkpoint } from './checkpoint.js';
import { coreError, isKefuError, isRetryable } from './errors.js';
import type { KefuRecord, StreamKey } from './record.js';
import type { PositionedRecord, RecordStream, StreamBatch } from './record-stream.js';
import { abortError, type RetryPolicy, retryWithBackoff } from './retry.js';
import type { RecordBatch, RecordSink, TransactionalSink } from './sink.js';

/**
 * Moving records into sinks, for RxJS users ({@link writeToSink}) and for pull consumers
 * ({@link pipeToSinks}, which the sync pipeline runs). Both acknowledge a checkpoint only
 * after the sink(s) durably accepted every record before it.
 */

/** Options of {@link writeToSink}. */
export interface WriteToSinkOptions {
  /** The stream the records belong to (handed to the sink with each batch). */
  stream: StreamKey;
  /** The checkpoint-store key of the stream (handed to transactional sinks). */
  checkpointKey: string;
  /** Records per batch, at most (default 500). */
  batchSize?: number;
  /** A partial batch is written after this long without reaching `batchSize` (default: only at completion). */
  maxWaitMs?: number;
}

/** Throws KEFU_CONFIG_INVALID unless `value` is an integer >= `min` (or undefined). */
function checkInteger(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
    throw coreError('KEFU_CONFIG_INVALID', `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Throws KEFU_CONFIG_INVALID unless `value` is a finite number >= 0 (or undefined). */
function checkDuration(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw coreError(
      'KEFU_CONFIG_INVALID',
      `${name} must be a finite number of milliseconds >= 0, got ${String(value)}`,
    );
  }
}

/** Wraps a sink's rejection as KEFU_SINK_FAILED naming the sink, keeping its retryability and code. */
export function sinkFailure(sink: RecordSink, batch: RecordBatch, error: unknown): Error {
  if (isKefuError(error) && error.code === 'KEFU_SYNC_ABORTED') return error;
  return coreError(
    'KEFU_SINK_FAILED',
    `sink ${sink.id} failed to write ${batch.records.length} records of ${batch.checkpointKey}: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
      retryable: isRetryable(error),
      details: {
        sink: sink.id,
        checkpointKey: batch.checkpointKey,
        ...(isKefuError(error) ? { code: error.code } : {}),
      },
    },
  );
}

/**
 * An RxJS operator writing positioned records to one sink in batches (by size, or after
 * `maxWaitMs`), one write after another, emitting the acknowledged checkpoint after each
 * write resolves. A write failure errors the output with KEFU_SINK_FAILED; an upstream
 * error is forwarded once the batches already cut were written (records still gathering
 * into a batch are dropped: they come back when reading again from the last emitted checkpoint).
 *
 * RxJS has no backpressure: records arriving while a write is in flight are buffered.
 * For bounded memory, subscribe with a {@link Demand} and ask for more after each
 * acknowledgement:
 *
 * @example
 * ```ts
 * const demand = new Demand(500);
 * stream.positioned({ demand })
 *   .pipe(writeToSink(sink, { stream: stream.key, checkpointKey: 'job/p/a', batchSize: 500 }))
 *   .subscribe(async (checkpoint) => { await store.save('job/p/a', checkpoint); demand.request(500); });
 * ```
 */
export function writeToSink(
  sink: RecordSink,
  options: WriteToSinkOptions,
): OperatorFunction<PositionedRecord, Checkpoint> {
  checkInteger('batchSize', options.batchSize, 1);
  checkDuration('maxWaitMs', options.maxWaitMs);
  const batchSize = options.batchSize ?? 500;
  return (source) =>
    new Observable<Checkpoint>((subscriber) => {
      let records: KefuRecord[] = [];
      let checkpoint: Checkpoint | undefined;
      let timer: NodeJS.Timeout | undefined;
      // Writes are chained so they run strictly one after another, in order.
      let writes: Promise<void> = Promise.resolve();
      let failed = false;

      const flush = () => {
        clearTimeout(timer);
        timer = undefined;
        if (records.length === 0 || !checkpoint) return;
        const batch: RecordBatch = {
          stream: options.stream,
          checkpointKey: options.checkpointKey,
          records,
          checkpoint,
        };
        records = [];
        writes = writes.then(async () => {
          if (failed || subscriber.closed) return;
          try {
            await sink.write(batch);
          } catch (error) {
            failed = true;
            subscriber.error(sinkFailure(sink, batch, error));
            return;
          }
          subscriber.next(batch.checkpoint);
        });
      };

      const subscription = source.subscribe({
        next: (positioned) => {
          records.push(positioned.record);
          checkpoint = positioned.checkpoint;
          if (records.length >= batchSize) flush();
          else if (records.length === 1 && options.maxWaitMs !== undefined) {
            timer = setTimeout(flush, options.maxWaitMs);
          }
        },
        error: (error: unknown) => {
          clearTimeout(timer);
          records = [];
          void writes.then(() => {
            if (!failed) subscriber.error(error);
          });
        },
        complete: () => {
          flush();
          void writes.then(() => {
            if (!failed) subscriber.complete();
          });
        },
      });
      return () => {
        clearTimeout(timer);
        subscription.unsubscribe();
      };
    });
}

/** Options of {@link pipeToSinks}. */
export interface PipeToSinksOptions {
  /** The checkpoint-store key of the stream (handed to sinks with each batch). */
  checkpointKey: string;
  /** Records per batch, at most (default 500). */
  batchSize?: number;
  /** A partial batch is released after this long without reaching `batchSize`. */
  maxWaitMs?: number;
  /** Batches read and not yet committed, at most (default 2). Bounds memory together with the stream's prefetch. */
  maxInFlightBatches?: number;
  /**
   * Bytes of records read and not yet committed (pages fetched ahead, the batch being
   * gathered, batches being written), at most — plus one page: the next page is requested
   * only while less is held, and a batch is cut at a quarter of it (default
   * {@link DEFAULT_MAX_BUFFERED_BYTES}; sizes estimated with `estimateRecordBytes`). Bounds
   * memory when records are large, where the page and batch counts alone do not.
   */
  maxBufferedBytes?: number;
  /** Stops reading; batches in flight are finished (or fail), then the call rejects with KEFU_SYNC_ABORTED. */
  signal?: AbortSignal;
  /** Retries a sink write failing with a retryable error (default: no retry). */
  writeRetry?: RetryPolicy;
  /** Called before each write retry. */
  onWriteRetry?: (info: { sink: string; attempt: number; delayMs: number; error: unknown }) => void;
  /** Called for each batch as it is read, before it is written. */
  onBatchRead?: (batch: RecordBatch) => void;
  /**
   * Adds to each batch's checkpoint before sinks and `commit` see it (the sync pipeline
   * records the range it was asked for, `requested`, in every checkpoint it stores).
   */
  annotateCheckpoint?: (checkpoint: Checkpoint) => Checkpoint;
  /**
   * One of `sinks` that commits each batch's checkpoint with its records (a
   * {@link TransactionalSink}). It is handed a batch only after every other sink
   * acknowledged it, so the checkpoint it commits never passes a batch another sink lacks.
   */
  checkpointSink?: TransactionalSink;
  /**
   * Called once per batch, in stream order, after every sink acknowledged it and every
   * earlier batch was committed: store the checkpoint here. A rejection stops the pipe.
   */
  commit?: (checkpoint: Checkpoint, batch: RecordBatch) => Promise<void> | void;
}

/** What {@link pipeToSinks} delivered. */
export interface PipeToSinksResult {
  /** Batches committed. */
  batches: number;
  /** Records committed. */
  records: number;
  /** The checkpoint of the last committed batch, if any. */
  checkpoint?: Checkpoint;
  /** The most bytes of records held at once (estimated), for the `maxBufferedBytes` bound. */
  peakBufferedBytes: number;
}

/**
 * Default of {@link PipeToSinksOptions.maxBufferedBytes}: 32 MiB. With WeChat's records
 * (about 1.2 kB each, estimated) the default pages and batches hold about 10 MiB, so the
 * bound only acts on larger records.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/** Batches are cut at this share of `maxBufferedBytes`, so several fit in flight beside the pages. */
const BATCH_SHARE_OF_BUFFER = 4;

/** Thrown inside queued writes that were skipped because an earlier batch failed. */
const SKIPPED = Symbol('skipped');

/** A write that is not retried (the default of `writeRetry`). */
const NO_RETRY: RetryPolicy = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, jitter: 0 };

/**
 * Pulls a stream in batches and writes every batch to every sink (in parallel across
 * sinks, in order within each sink), with at most `maxInFlightBatches` batches read and
 * not yet committed. `commit` runs for the contiguous acknowledged prefix only: a batch
 * is committed once all sinks acknowledged it and every batch before it was committed.
 * On a failure nothing after the failed batch is committed; writes already started are
 * awaited, so nothing is written after the returned promise settles. When `signal`
 * aborts, reading stops, batches already read are finished and committed, and the call
 * rejects with KEFU_SYNC_ABORTED (the committed checkpoint stays consistent). A read
 * error from the stream is handled the same way, then rethrown.
 *
 * @example
 * ```ts
 * const result = await pipeToSinks(stream, [fileSink, httpSink], {
 *   checkpointKey: 'default/wechat-mp/wx123',
 *   commit: (checkpoint) => store.save('default/wechat-mp/wx123', checkpoint),
 * });
 * ```
 */
export async function pipeToSinks(
  stream: RecordStream,
  sinks: readonly RecordSink[],
  options: PipeToSinksOptions,
): Promise<PipeToSinksResult> {
  checkPipeOptions(sinks, options);
  // The read stops on the caller's signal or on the first failure of a write or commit.
  const reading = new AbortController();
  const onOuterAbort = () => reading.abort(options.signal?.reason);
  if (options.signal?.aborted) throw abortError(options.signal);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  // Every record read is held here until its batch is committed (or given up).
  const budget = new ByteBudget(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const fanOut = new SinkFanOut(stream, sinks, options, budget, (error) => reading.abort(error));
  let readEnd: ReadEnd;
  try {
    readEnd = await readIntoSinks(stream, fanOut, options, budget, reading.signal);
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await fanOut.settled();
    fanOut.result.peakBufferedBytes = budget.peak;
  }
  if (fanOut.failure) throw fanOut.failure.error;
  if (readEnd.readError) throw readEnd.readError.error;
  if (readEnd.stopped !== undefined || options.signal?.aborted) throw readEnd.stopped ?? abortError(options.signal);
  return fanOut.result;
}

/** Throws KEFU_CONFIG_INVALID naming the first option of {@link pipeToSinks} that is wrong. */
function checkPipeOptions(sinks: readonly RecordSink[], options: PipeToSinksOptions): void {
  if (typeof options.checkpointKey !== 'string' || options.checkpointKey.length === 0) {
    throw coreError(
      'KEFU_CONFIG_INVALID',
      'pipeToSinks needs a non-empty `checkpointKey` (e.g. `job/provider/account`)',
    );
  }
  checkInteger('batchSize', options.batchSize, 1);
  checkInteger('maxInFlightBatches', options.maxInFlightBatches, 1);
  checkInteger('maxBufferedBytes', options.maxBufferedBytes, 1024);
  checkDuration('maxWaitMs', options.maxWaitMs);
  const checkpointSink = options.checkpointSink;
  if (checkpointSink && !sinks.includes(checkpointSink)) {
    throw coreError('KEFU_CONFIG_INVALID', `pipeToSinks: checkpointSink ${checkpointSink.id} is not one of the sinks`);
  }
}

/**
 * How the read loop ended besides running out of batches. A stop or a read error is not a
 * sink failure: batches already read still finish and commit.
 */
interface ReadEnd {
  /** KEFU_SYNC_ABORTED when the caller's signal stopped the read. */
  stopped?: unknown;
  /** The stream's own error (only when no sink failure came first, which aborted the read). */
  readError?: { error: unknown };
}

/** Reads the stream batch by batch into `fanOut`, never more than `maxInFlightBatches` ahead of the commits. */
async function readIntoSinks(
  stream: RecordStream,
  fanOut: SinkFanOut,
  options: PipeToSinksOptions,
  budget: ByteBudget,
  signal: AbortSignal,
): Promise<ReadEnd> {
  const maxInFlight = options.maxInFlightBatches ?? 2;
  try {
    for await (const streamBatch of stream.batches({
      size: options.batchSize ?? 500,
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
      signal,
      budget,
      maxBytes: Math.max(1, Math.floor(budget.limit / BATCH_SHARE_OF_BUFFER)),
    })) {
      if (fanOut.failure) break;
      fanOut.submit(streamBatch);
      await fanOut.waitForRoom(maxInFlight);
      if (fanOut.failure) break;
    }
    return {};
  } catch (error) {
    if (options.signal?.aborted) return { stopped: abortError(options.signal) };
    return fanOut.failure ? {} : { readError: { error } };
  }
}

/**
 * The write side of {@link pipeToSinks}: each batch goes to every sink (in parallel across
 * sinks, in order within each sink, the checkpoint sink only after all others acknowledged
 * it), then commits once every earlier batch committed. The first failure skips every later
 * write and commit and calls `onFailure` (which stops the read).
 */
class SinkFanOut {
  readonly result: PipeToSinksResult = { batches: 0, records: 0, peakBufferedBytes: 0 };
  #failure: { error: unknown } | undefined;
  // Each sink's previous write: the next batch goes to a sink only after its previous one.
  readonly #sinkTails: Array<Promise<unknown>>;
  #lastCommit: Promise<void> = Promise.resolve();
  // Batches read and not yet committed (or failed).
  readonly #inFlight: Array<Promise<void>> = [];
  readonly #checkpointIndex: number;
  readonly #stream: RecordStream;
  readonly #sinks: readonly RecordSink[];
  readonly #options: PipeToSinksOptions;
  readonly #budget: ByteBudget;
  readonly #onFailure: (error: unknown) => void;

  constructor(
    stream: RecordStream,
    sinks: readonly RecordSink[],
    options: PipeToSinksOptions,
    budget: ByteBudget,
    onFailure: (error: unknown) => void,
  ) {
    this.#stream = stream;
    this.#sinks = sinks;
    this.#options = options;
    this.#budget = budget;
    this.#onFailure = onFailure;
    this.#sinkTails = sinks.map(() => Promise.resolve());
    this.#checkpointIndex = options.checkpointSink ? sinks.indexOf(options.checkpointSink) : -1;
  }

  /** The first write or commit failure, once there was one. */
  get failure(): { error: unknown } | undefined {
    return this.#failure;
  }

  /** Writes a batch read from the stream to the sinks and chains its commit after the previous one. */
  submit(streamBatch: StreamBatch): void {
    const batch = this.#recordBatch(streamBatch);
    this.#options.onBatchRead?.(batch);
    const acknowledged = this.#writeToSinks(batch);
    // Contiguous prefix: commit only after the previous batch committed.
    const committed = this.#lastCommit.then(async () => {
      await acknowledged;
      if (this.#failure) throw SKIPPED;
      await this.#options.commit?.(batch.checkpoint, batch);
      this.result.batches += 1;
      this.result.records += batch.records.length;
      this.result.checkpoint = batch.checkpoint;
    });
    this.#lastCommit = committed;
    const tracked = committed
      .catch((error: unknown) => {
        if (error !== SKIPPED) this.#failure ??= { error };
        this.#onFailure(error);
      })
      // Committed (or given up): its records leave the pipeline's buffers.
      .finally(() => this.#budget.release(streamBatch.bytes ?? 0));
    this.#inFlight.push(tracked);
    void tracked.finally(() => this.#inFlight.splice(this.#inFlight.indexOf(tracked), 1));
  }

  /** Resolves once fewer than `maxInFlight` batches are uncommitted, or at the first failure. */
  async waitForRoom(maxInFlight: number): Promise<void> {
    while (this.#inFlight.length >= maxInFlight && !this.#failure) await Promise.race(this.#inFlight);
  }

  /** Resolves once every write and commit started has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight, ...this.#sinkTails]);
  }

  #recordBatch(streamBatch: StreamBatch): RecordBatch {
    const annotate = this.#options.annotateCheckpoint;
    return {
      stream: this.#stream.key,
      checkpointKey: this.#options.checkpointKey,
      records: streamBatch.records,
      checkpoint: annotate ? annotate(streamBatch.checkpoint) : streamBatch.checkpoint,
    };
  }

  /** Resolves once every sink acknowledged the batch (the checkpoint sink last). */
  #writeToSinks(batch: RecordBatch): Promise<unknown> {
    // A record-less batch only advances the checkpoint (empty pages): nothing to write.
    if (batch.records.length === 0) return Promise.resolve();
    const others: Array<Promise<unknown>> = [];
    this.#sinks.forEach((_, index) => {
      if (index !== this.#checkpointIndex) others.push(this.#enqueue(index, batch, Promise.resolve()));
    });
    const othersAcknowledged = Promise.all(others);
    othersAcknowledged.catch(() => undefined);
    const all =
      this.#checkpointIndex >= 0
        ? Promise.all([...others, this.#enqueue(this.#checkpointIndex, batch, othersAcknowledged)])
        : othersAcknowledged;
    all.catch(() => undefined);
    return all;
  }

  /** Queues the batch on one sink, after that sink's previous write and after `after`. */
  #enqueue(index: number, batch: RecordBatch, after: Promise<unknown>): Promise<unknown> {
    const acknowledged = Promise.all([this.#sinkTails[index], after]).then(() => {
      if (this.#failure) throw SKIPPED;
      return this.#write(this.#sinks[index] as RecordSink, batch);
    });
    this.#sinkTails[index] = acknowledged.catch(() => undefined);
    return acknowledged;
  }

  #write(sink: RecordSink, batch: RecordBatch): Promise<void> {
    return retryWithBackoff(() => sink.write(batch), {
      policy: this.#options.writeRetry ?? NO_RETRY,
      ...(this.#options.signal ? { signal: this.#options.signal } : {}),
      onRetry: (info) => this.#options.onWriteRetry?.({ sink: sink.id, ...info }),
    }).catch((error: unknown) => {
      throw sinkFailure(sink, batch, error);
    });
  }
}
