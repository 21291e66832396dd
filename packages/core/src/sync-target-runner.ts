import type { Checkpoint } from './checkpoint.js';
import { coreError, isKefuError } from './errors.js';
import type { JsonlAppendFile } from './jsonl-append-file.js';
import type { KefuLogger } from './logger.js';
import type { InvalidRecord, RecordStream, RecordStreamOptions } from './record-stream.js';
import { backoffDelay, type RetryPolicy, retryWithBackoff, sleep } from './retry.js';
import type { TransactionalSink } from './sink.js';
import { type PipeToSinksOptions, pipeToSinks } from './sink-operators.js';
import { countWarning, errorJson, type SyncProgress } from './sync-progress.js';
import { resumedRange, syncCheckpointKey } from './sync-resume.js';
import type { InvalidRecordDeadLetter, SyncOptions, SyncTarget, SyncTargetSummary } from './sync-types.js';

/**
 * Records per sink batch unless configured: 1000, not 500, since a database sink commits
 * (and a file sink fsyncs) once per batch — `kefu sync` → SQLite at 1 M records went from
 * 0.61 to 1.04 of a bare script committing every 1 000 rows (docs/benchmarks.md).
 */
const DEFAULT_SYNC_BATCH_SIZE = 1000;

/**
 * True when `error` means the platform's quota is used up until it resets: code
 * `KEFU_QUOTA_EXHAUSTED`, or any KefuError with `details.quotaExhausted === true` (the
 * convention for providers: WeChat 45009 sets it). The sync stops such a target cleanly,
 * with a resumable checkpoint, instead of failing or retrying it.
 */
export function isQuotaExhausted(error: unknown): boolean {
  return isKefuError(error) && (error.code === 'KEFU_QUOTA_EXHAUSTED' || error.details.quotaExhausted === true);
}

/** What every target of one sync shares. */
export interface TargetRunContext {
  options: SyncOptions;
  job: string;
  logger: KefuLogger;
  now: () => number;
  policy: RetryPolicy;
  /** The sync's stop signal. */
  signal: AbortSignal;
  progress: SyncProgress;
  /** Where invalid records go under `onInvalidRecord: 'dead-letter'` (absent in a dry run). */
  deadLetters: JsonlAppendFile | undefined;
  /** The sink that commits each batch's checkpoint with its records, when one does (never in a dry run). */
  checkpointSink: TransactionalSink | undefined;
}

/** The range a target syncs over, as stored in its checkpoints. */
type RequestedRange = { from: string; to: string };

/**
 * Syncs one target: loads its checkpoint, then pipes its stream into the sinks, reopening
 * the stream from the last commit after a retryable failure (consecutive failures are
 * bounded by the retry policy; every commit resets the count). Fills in `summary` and
 * reports progress as it goes; never throws (the outcome is `summary.status`).
 */
export class TargetSyncRunner {
  readonly #context: TargetRunContext;
  readonly #target: SyncTarget;
  readonly #summary: SyncTargetSummary;
  readonly #key: string;
  readonly #log: KefuLogger;
  #committed: Checkpoint | undefined;
  /** Consecutive failures of the stream; reset by every commit (progress was made). */
  #streamFailures = 0;

  constructor(context: TargetRunContext, target: SyncTarget, summary: SyncTargetSummary) {
    this.#context = context;
    this.#target = target;
    this.#summary = summary;
    this.#key = syncCheckpointKey(context.job, target);
    this.#log = context.logger.child({ target: summary.target, checkpointKey: this.#key });
  }

  /** Runs the target to its end: done, stopped, quota-exhausted or failed. */
  async run(): Promise<void> {
    if (!(await this.#loadCheckpoint())) return;
    const range = this.#start();
    while (true) {
      if (this.#context.signal.aborted) {
        this.#summary.status = 'stopped';
        break;
      }
      try {
        await this.#syncStream(range);
        break;
      } catch (error) {
        if (!(await this.#reopenAfter(error))) break;
      }
    }
    const summary = this.#summary;
    this.#context.progress.emit(summary.status === 'failed' ? 'target-failed' : 'target-done', summary, {
      status: summary.status,
      ...(summary.error !== undefined ? { error: errorJson(summary.error) } : {}),
    });
    this.#log.info('target ended', { status: summary.status, records: summary.records, pages: summary.pages });
  }

  /** Loads the stored checkpoint; false (with the target failed or stopped) when it cannot. */
  async #loadCheckpoint(): Promise<boolean> {
    const summary = this.#summary;
    try {
      this.#committed = await this.#withStoreRetry(() => this.#context.options.checkpoints.load(this.#key));
    } catch (error) {
      if (this.#context.signal.aborted) {
        summary.status = 'stopped';
        return false;
      }
      summary.status = 'failed';
      summary.error = error;
      summary.errors += 1;
      this.#log.error('cannot load checkpoint', { error: errorJson(error) });
      this.#context.progress.emit('target-failed', summary, { status: 'failed', error: errorJson(error) });
      return false;
    }
    if (this.#committed) summary.checkpoint = this.#committed;
    summary.lagMs = this.#lag(this.#committed);
    return true;
  }

  /** Works out the range to sync, reports the start and any warning about the range. */
  #start(): { from: Date; requested: RequestedRange } {
    const { options } = this.#context;
    const range = resumedRange(this.#committed, options.from, options.to, options.fromIsDefault);
    const requested = { from: range.from.toISOString(), to: options.to.toISOString() };
    this.#summary.range = requested;
    this.#context.progress.emit('started', this.#summary);
    for (const warning of range.warnings) {
      countWarning(this.#summary.warnings, warning);
      this.#log.warn('sync warning', { code: warning.code, message: warning.message });
      this.#context.progress.emit('warning', this.#summary, { warning });
    }
    this.#log.info('target started', { resumeFrom: this.#committed ?? null, from: requested.from, to: requested.to });
    return { from: range.from, requested };
  }

  /** One attempt: opens the stream from the last commit and pipes it to its end, then marks the range complete. */
  async #syncStream(range: { from: Date; requested: RequestedRange }): Promise<void> {
    const { options } = this.#context;
    await pipeToSinks(this.#openStream(range.from), options.dryRun ? [] : options.sinks, this.#pipeOptions(range));
    this.#summary.status = 'done';
    if (this.#committed && !options.dryRun) {
      // The range is synced to its end: later runs start their own range from here.
      const complete = { ...this.#committed, requested: { ...range.requested, complete: true } };
      await this.#withStoreRetry(() => options.checkpoints.save(this.#key, complete));
      this.#committed = complete;
      this.#summary.checkpoint = complete;
    }
  }

  /**
   * Decides what a failed attempt leads to: true to reopen the stream (after a back-off),
   * false when the target ends here (stopped, quota exhausted or failed).
   */
  async #reopenAfter(error: unknown): Promise<boolean> {
    const { signal, policy } = this.#context;
    const summary = this.#summary;
    if (isKefuError(error) && error.code === 'KEFU_SYNC_ABORTED' && signal.aborted) {
      summary.status = 'stopped';
      return false;
    }
    summary.errors += 1;
    if (isQuotaExhausted(error)) {
      summary.status = 'quota-exhausted';
      summary.error = error;
      this.#log.warn('platform quota exhausted; stopping this target until it resets', { error: errorJson(error) });
      return false;
    }
    // Sink errors were already retried per write; stream errors reopen from the last commit.
    const fromSink = isKefuError(error) && error.code === 'KEFU_SINK_FAILED';
    this.#streamFailures += 1;
    if (fromSink || !isKefuError(error) || !error.retryable || this.#streamFailures >= policy.maxAttempts) {
      summary.status = 'failed';
      summary.error = error;
      this.#log.error('target failed', { error: errorJson(error) });
      return false;
    }
    const delayMs = error.retryAfterMs ?? backoffDelay(this.#streamFailures, policy);
    summary.retries += 1;
    this.#log.warn('stream failed, reopening from the last committed checkpoint', {
      attempt: this.#streamFailures,
      delayMs,
      error: errorJson(error),
    });
    this.#context.progress.emit('retry', summary, { error: errorJson(error) });
    try {
      await sleep(delayMs, signal);
      return true;
    } catch {
      summary.status = 'stopped';
      return false;
    }
  }

  /** The provider's stream from the last commit, with the sync's stream options. */
  #openStream(from: Date): RecordStream {
    const { options } = this.#context;
    const { provider, account } = this.#target;
    const opened: RecordStream = provider.records({
      account,
      from,
      to: options.to,
      ...(this.#committed ? { resumeFrom: this.#committed } : {}),
    });
    if (typeof opened?.batches !== 'function') {
      throw coreError(
        'KEFU_PLUGIN_INVALID',
        `provider ${provider.id} returned no RecordStream from records(); build it with \`new RecordStream(key, pageSource, resumeFrom)\``,
      );
    }
    // A stream from another copy of core may lack withOptions: use it as it is.
    return typeof opened.withOptions === 'function' ? opened.withOptions(this.#streamOptions()) : opened;
  }

  /** Stream options that count pages, provider retries and warnings, and handle invalid records. */
  #streamOptions(): RecordStreamOptions {
    const { options, progress } = this.#context;
    const summary = this.#summary;
    const onInvalidRecord = this.#invalidRecordHandler();
    return {
      ...(options.prefetchPages !== undefined ? { prefetchPages: options.prefetchPages } : {}),
      onPageFetched: () => {
        summary.pages += 1;
        progress.emit('page', summary);
      },
      // Retries inside the provider (busy platform, token refresh, resets) count too.
      onRetry: ({ attempt, delayMs, error }) => {
        summary.retries += 1;
        summary.errors += 1;
        this.#log.debug('provider retried a request', { attempt, delayMs, error: errorJson(error) });
        progress.emit('retry', summary, { error: errorJson(error) });
      },
      onWarning: (warning) => {
        countWarning(summary.warnings, warning);
        this.#log.warn('provider warning', { code: warning.code, message: warning.message, details: warning.details });
        progress.emit('warning', summary, { warning });
      },
      ...(onInvalidRecord ? { onInvalidRecord } : {}),
    };
  }

  /** What the stream does with a record failing validation; undefined under `onInvalidRecord: 'fail'`. */
  #invalidRecordHandler(): ((invalid: InvalidRecord) => Promise<void>) | undefined {
    const { options, deadLetters, now } = this.#context;
    const policy = options.onInvalidRecord ?? 'fail';
    if (policy === 'fail') return undefined;
    return async (invalid) => {
      this.#summary.invalidRecords += 1;
      const id = String((invalid.record as { id?: unknown } | null)?.id).slice(0, 200);
      this.#log.warn(`invalid record ${policy === 'skip' ? 'skipped' : 'dead-lettered'}`, {
        recordId: id,
        reason: invalid.reason,
      });
      await deadLetters?.append({
        at: new Date(now()).toISOString(),
        target: this.#summary.target,
        checkpointKey: this.#key,
        reason: invalid.reason,
        issues: invalid.issues,
        record: invalid.record,
      } satisfies InvalidRecordDeadLetter);
    };
  }

  /** How the stream is piped: batches, retries of writes, and the commit of each checkpoint. */
  #pipeOptions(range: { requested: RequestedRange }): PipeToSinksOptions {
    const { options, signal, policy, progress, checkpointSink } = this.#context;
    const summary = this.#summary;
    return {
      checkpointKey: this.#key,
      ...(checkpointSink ? { checkpointSink } : {}),
      batchSize: options.batchSize ?? DEFAULT_SYNC_BATCH_SIZE,
      ...(options.maxBatchWaitMs !== undefined ? { maxWaitMs: options.maxBatchWaitMs } : {}),
      ...(options.maxInFlightBatches !== undefined ? { maxInFlightBatches: options.maxInFlightBatches } : {}),
      ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
      signal,
      writeRetry: policy,
      // Every stored checkpoint says which range it belongs to, so a stopped sync resumes it.
      annotateCheckpoint: (checkpoint) => ({ ...checkpoint, requested: range.requested }),
      onWriteRetry: ({ sink, attempt, delayMs, error }) => {
        summary.retries += 1;
        summary.errors += 1;
        this.#log.warn('sink write failed, retrying', { sink, attempt, delayMs, error: errorJson(error) });
        progress.emit('retry', summary, { error: errorJson(error) });
      },
      commit: async (checkpoint, batch) => {
        // A checkpoint sink committed this checkpoint with the batch's records already
        // (a record-less batch, which only advances the checkpoint, reaches no sink).
        if (!options.dryRun && (!checkpointSink || batch.records.length === 0)) {
          await this.#withStoreRetry(() => options.checkpoints.save(this.#key, checkpoint));
        }
        this.#committed = checkpoint;
        this.#streamFailures = 0;
        summary.records += batch.records.length;
        summary.checkpoint = checkpoint;
        summary.lagMs = this.#lag(checkpoint);
        progress.emit('batch-committed', summary);
      },
    };
  }

  /** Calls the checkpoint store, retrying retryable errors: it may be a database whose connection was just lost. */
  #withStoreRetry<T>(call: () => Promise<T>): Promise<T> {
    return retryWithBackoff(call, {
      policy: this.#context.policy,
      signal: this.#context.signal,
      onRetry: ({ attempt, delayMs, error }) => {
        this.#summary.retries += 1;
        this.#summary.errors += 1;
        this.#log.warn('checkpoint store failed, retrying', { attempt, delayMs, error: errorJson(error) });
        this.#context.progress.emit('retry', this.#summary, { error: errorJson(error) });
      },
    });
  }

  /** Now minus the time of the checkpoint's last record. */
  #lag(checkpoint: Checkpoint | undefined): number | undefined {
    return checkpoint?.recordAt ? Math.max(0, this.#context.now() - Date.parse(checkpoint.recordAt)) : undefined;
  }
}
