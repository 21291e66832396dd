import { Observable, Subject } from 'rxjs';
import type { Checkpoint, CheckpointStore } from './checkpoint.js';
import { type CoreErrorCode, coreError, isKefuError } from './errors.js';
import { JsonlAppendFile } from './jsonl-append-file.js';
import type { KefuLogger } from './logger.js';
import { silentLogger } from './logger.js';
import type { KefuProvider } from './provider.js';
import type { InvalidRecord, ProviderWarning, RecordStream } from './record-stream.js';
import { backoffDelay, defaultRetryPolicy, type RetryPolicy, retryWithBackoff, sleep } from './retry.js';
import type { RecordSink } from './sink.js';
import { pipeToSinks } from './sink-operators.js';

/**
 * The sync pipeline: provider → batches → every sink → checkpoint, per target, with
 * bounded concurrency, retries, graceful stop and progress events. Delivery is
 * at-least-once (exactly-once with transactional sinks): a checkpoint is stored only
 * after every sink acknowledged every record before it.
 */

/** One stream to sync: an account of a provider. */
export interface SyncTarget {
  provider: KefuProvider;
  account: string;
}

/** Options of {@link runSync}. */
export interface SyncOptions {
  /**
   * Checkpoint namespace (default `default`). The key of a target is
   * `${job}/${provider.id}/${account}`: the provider's instance id, not its platform,
   * because two instances of one platform (two WeChat apps) must not share state.
   */
  job?: string;
  /** Streams to sync, run `concurrency` at a time. */
  targets: SyncTarget[];
  /** Targets synced at once (default 2). */
  concurrency?: number;
  /** Fan-out: every batch goes to every sink, in parallel; the checkpoint advances only after all acknowledged. */
  sinks: RecordSink[];
  checkpoints: CheckpointStore;
  /**
   * Start of the range for targets synced for the first time. A target with stored state
   * resumes from its checkpoint, over the range its first sync was asked for (`requested`
   * in the checkpoint): an interrupted sync resumes exactly what was asked, whatever this
   * run's `from`; the summary warns when they differ.
   */
  from: Date;
  /**
   * True when `from` is a default rather than asked for (`kefu sync` without `--from`): a
   * target resuming a stored range then gets no warning that the range differs.
   */
  fromIsDefault?: boolean;
  /** End of the range (exclusive). */
  to: Date;
  /** Records per batch (default 500). */
  batchSize?: number;
  /** A partial batch is written after this long without filling up (default: when the stream ends). */
  maxBatchWaitMs?: number;
  /** Pages fetched ahead of the writes (default 2). */
  prefetchPages?: number;
  /** Batches read and not yet committed per target (default 2). */
  maxInFlightBatches?: number;
  /** Back-off for retryable errors of sinks (each write) and streams (reopened from the last commit). Default {@link defaultRetryPolicy}. */
  retry?: RetryPolicy;
  /** Aborting stops the sync gracefully, like {@link SyncRun.stop}. */
  signal?: AbortSignal;
  /** SIGINT/SIGTERM stop the sync gracefully (listeners are removed when it ends). */
  handleProcessSignals?: boolean;
  logger?: KefuLogger;
  /** Read and count; write nothing and store no checkpoint. */
  dryRun?: boolean;
  /**
   * A record that fails validation: `fail` stops its target (default, KEFU_RECORD_INVALID),
   * `skip` leaves it out, `dead-letter` appends it to `deadLetterPath` and goes on. Records
   * left out are counted per target (`invalidRecords`); checkpoints pass them, so a re-run
   * neither meets them again nor loses the records after them.
   */
  onInvalidRecord?: InvalidRecordPolicy;
  /** The JSONL file (created 0600) for `onInvalidRecord: 'dead-letter'`: one line per record left out. */
  deadLetterPath?: string;
  /** The clock for lag (default Date.now). */
  now?: () => number;
}

/** A KefuError as JSON (what progress events carry). */
export type SyncErrorJson = Record<string, unknown>;

/** One progress event of a sync. Counters are per target (totals on `started`/`done` without target). */
export interface SyncProgressEvent {
  type: 'started' | 'page' | 'batch-committed' | 'retry' | 'warning' | 'target-done' | 'target-failed' | 'done';
  /** `providerId/account`, absent on run-wide events. */
  target?: string;
  /** Records committed (in a dry run: read). */
  records: number;
  /** Pages fetched. */
  pages: number;
  /** Retries so far (sink writes and stream reopenings). */
  retries: number;
  /** Errors seen so far, retried ones included. */
  errors: number;
  /** Now minus the time of the last committed record. */
  lagMs?: number;
  checkpoint?: Checkpoint;
  /** The target's final status, on `target-done` / `target-failed`. */
  status?: SyncTargetStatus;
  error?: SyncErrorJson;
  /** The warning a provider (or the sync itself) reported, on `warning`. */
  warning?: ProviderWarning;
}

/** How a target ended. */
export type SyncTargetStatus = 'done' | 'failed' | 'stopped' | 'quota-exhausted';

/** What a sync does with a record that fails validation (see {@link SyncOptions.onInvalidRecord}). */
export type InvalidRecordPolicy = 'fail' | 'skip' | 'dead-letter';

/** One line of the dead-letter file of `onInvalidRecord: 'dead-letter'`. */
export interface InvalidRecordDeadLetter {
  /** When the record was left out (ISO-8601 UTC). */
  at: string;
  /** `providerId/account`. */
  target: string;
  checkpointKey: string;
  /** Every problem as `path: message`, joined by `; `. */
  reason: string;
  issues: ReadonlyArray<{ path: string; message: string }>;
  /** The record as the provider emitted it, its raw platform payload included. */
  record: unknown;
}

/** Warnings about a target: the provider's, and the sync's own (a range that differs from a stored one). */
export interface SyncWarnings {
  /** Every warning reported, repeats included. */
  count: number;
  /** The first warning of each distinct code, in the order met, at most {@link MAX_DISTINCT_WARNINGS}. */
  distinct: ProviderWarning[];
}

/** How many distinct warnings a target summary keeps. */
export const MAX_DISTINCT_WARNINGS = 5;

/** The outcome of one target. */
export interface SyncTargetSummary {
  target: string;
  records: number;
  pages: number;
  retries: number;
  errors: number;
  /**
   * Warnings: nothing was lost, but something deserves a look — a platform answer the
   * provider reported, or a range that differs from the stored one this target resumes.
   */
  warnings: SyncWarnings;
  status: SyncTargetStatus;
  error?: unknown;
  /** The last committed checkpoint (or the stored one when nothing was committed). */
  checkpoint?: Checkpoint;
  lagMs?: number;
  /** Records left out because they failed validation (`onInvalidRecord: skip | dead-letter`). */
  invalidRecords: number;
  /** The range this target was synced over (its first sync's start when it resumed), ISO-8601. */
  range?: { from: string; to: string };
}

/** The outcome of a sync. */
export interface SyncSummary {
  targets: SyncTargetSummary[];
  records: number;
  durationMs: number;
  /** True when the sync was stopped (signal, SIGINT/SIGTERM, stop()). */
  stopped: boolean;
}

/** A running sync. */
export interface SyncRun {
  /** Hot progress events; a late subscriber still receives the final `done` event. */
  progress$: Observable<SyncProgressEvent>;
  /** Resolves with the summary (never rejects for target failures: see each target's status). */
  done: Promise<SyncSummary>;
  /** Stops gracefully: batches in flight finish, checkpoints stay consistent. */
  stop(reason?: string): void;
}

/**
 * True when `error` means the platform's quota is used up until it resets: code
 * `KEFU_QUOTA_EXHAUSTED`, or any KefuError with `details.quotaExhausted === true` (the
 * convention for providers: WeChat 45009 sets it). The sync stops such a target cleanly,
 * with a resumable checkpoint, instead of failing or retrying it.
 */
export function isQuotaExhausted(error: unknown): boolean {
  return isKefuError(error) && (error.code === 'KEFU_QUOTA_EXHAUSTED' || error.details.quotaExhausted === true);
}

/** The checkpoint key of a target: `${job}/${provider.id}/${account}`. */
export function syncCheckpointKey(job: string, target: SyncTarget): string {
  return `${job}/${target.provider.id}/${target.account}`;
}

/** A warning of the sync itself, with a code of the core catalogue (`kefu errors <code>` explains it). */
function coreWarning(code: CoreErrorCode, message: string): ProviderWarning {
  return { code, message: coreError(code, message).message };
}

/**
 * The start of a target's range. Without stored state: this run's `from`. With a checkpoint
 * that records the range it was written for: that range's start — an interrupted sync
 * resumes exactly what was asked (Ctrl-C before a target started must not shrink its range
 * to the next run's default), and a finished one keeps reading from its checkpoint, which a
 * later `from` must not cut into. Warns when the run asked for something else.
 */
export function resumedRange(
  stored: Checkpoint | undefined,
  from: Date,
  to: Date,
  fromIsDefault = false,
): { from: Date; warnings: ProviderWarning[] } {
  const requested = stored?.requested;
  if (!requested) return { from, warnings: [] };
  const storedFrom = new Date(requested.from);
  const warnings: ProviderWarning[] = [];
  if (!requested.complete) {
    if (!fromIsDefault && storedFrom.getTime() !== from.getTime()) {
      warnings.push(
        coreWarning(
          'KEFU_SYNC_RANGE_DIFFERS',
          `resuming the interrupted sync's range from ${requested.from}, not from ${from.toISOString()} as this run asked`,
        ),
      );
    }
    if (to.getTime() < Date.parse(requested.to)) {
      warnings.push(
        coreWarning(
          'KEFU_SYNC_RANGE_DIFFERS',
          `this run ends at ${to.toISOString()}, before the interrupted sync's end ${requested.to}: the rest stays to sync`,
        ),
      );
    }
  } else if (!fromIsDefault && from.getTime() < storedFrom.getTime()) {
    warnings.push(
      coreWarning(
        'KEFU_SYNC_RANGE_DIFFERS',
        `this run asked from ${from.toISOString()}, before the start of this target's first sync (${requested.from}); its checkpoint is past that, so the earlier records are not read`,
      ),
    );
  }
  return { from: storedFrom, warnings };
}

/** Counts a warning and keeps it when its code is new and there is room. */
function countWarning(warnings: SyncWarnings, warning: ProviderWarning): void {
  warnings.count += 1;
  const known = warnings.distinct.some((kept) => kept.code === warning.code);
  if (!known && warnings.distinct.length < MAX_DISTINCT_WARNINGS) warnings.distinct.push(warning);
}

/** Error JSON for events and logs (KefuErrors know how; others give name and message). */
function errorJson(error: unknown): SyncErrorJson {
  if (isKefuError(error)) return error.toJSON();
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}

/** Checks the options; throws KEFU_CONFIG_INVALID saying what is wrong and how to fix it. */
function validateOptions(options: SyncOptions): void {
  const fail = (message: string): never => {
    throw coreError('KEFU_CONFIG_INVALID', `runSync: ${message}`);
  };
  if (!Array.isArray(options.targets)) fail('`targets` must be an array of { provider, account }');
  if (!Array.isArray(options.sinks)) fail('`sinks` must be an array of RecordSinks');
  if (options.sinks.length === 0 && !options.dryRun) {
    fail('no `sinks`: records would be read and checkpoints advanced with nothing written; add a sink or use dryRun');
  }
  if (!options.checkpoints || typeof options.checkpoints.load !== 'function') {
    fail('`checkpoints` must be a CheckpointStore (e.g. new FileCheckpointStore({ path }))');
  }
  for (const [name, value] of [
    ['from', options.from],
    ['to', options.to],
  ] as const) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) fail(`\`${name}\` must be a valid Date`);
  }
  if (options.from.getTime() > options.to.getTime()) fail('`from` must not be after `to`');
  for (const [name, value, min] of [
    ['concurrency', options.concurrency, 1],
    ['batchSize', options.batchSize, 1],
    ['prefetchPages', options.prefetchPages, 1],
    ['maxInFlightBatches', options.maxInFlightBatches, 1],
    ['maxBatchWaitMs', options.maxBatchWaitMs, 0],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
      fail(`\`${name}\` must be an integer >= ${min}, got ${String(value)}`);
    }
  }
  if (options.job !== undefined && (typeof options.job !== 'string' || options.job.length === 0)) {
    fail('`job` must be a non-empty string');
  }
  if (options.onInvalidRecord !== undefined && !['fail', 'skip', 'dead-letter'].includes(options.onInvalidRecord)) {
    fail(`\`onInvalidRecord\` must be 'fail', 'skip' or 'dead-letter', got ${String(options.onInvalidRecord)}`);
  }
  if (options.onInvalidRecord === 'dead-letter' && !options.deadLetterPath) {
    fail("`onInvalidRecord: 'dead-letter'` needs `deadLetterPath`: the JSONL file that receives invalid records");
  }
  const keys = new Set<string>();
  for (const target of options.targets) {
    if (!target?.provider || typeof target.provider.records !== 'function' || typeof target.account !== 'string') {
      fail('every target needs `provider` (a KefuProvider) and `account` (a string)');
    }
    const key = syncCheckpointKey(options.job ?? 'default', target);
    // Two targets on one key would race on one checkpoint.
    if (keys.has(key)) fail(`target ${key} is listed twice`);
    keys.add(key);
  }
}

/**
 * Runs a sync of `targets` into `sinks` and returns at once: watch `progress$`, await
 * `done`, call `stop()` to end it gracefully.
 *
 * @example
 * ```ts
 * const run = runSync({
 *   targets: [{ provider, account: 'wx123' }],
 *   sinks: [fileSink],
 *   checkpoints: new FileCheckpointStore({ path: '.kefu/checkpoints.json' }),
 *   from: new Date('2026-11-01T00:00:00Z'),
 *   to: new Date(),
 *   handleProcessSignals: true,
 * });
 * run.progress$.subscribe((event) => console.error(event.type, event.target, event.records));
 * const summary = await run.done;
 * ```
 */
export function runSync(options: SyncOptions): SyncRun {
  validateOptions(options);
  const job = options.job ?? 'default';
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const policy = options.retry ?? defaultRetryPolicy;
  const startedAt = now();

  const stopping = new AbortController();
  const stop = (reason?: string) => {
    if (stopping.signal.aborted) return;
    logger.info('sync stopping', { reason: reason ?? 'stop requested' });
    stopping.abort(coreError('KEFU_SYNC_ABORTED', `sync stopped: ${reason ?? 'stop requested'}`));
  };
  const onOuterAbort = () => stop('signal aborted');
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const onProcessSignal = (signal: NodeJS.Signals) => stop(signal);
  if (options.handleProcessSignals) {
    process.on('SIGINT', onProcessSignal);
    process.on('SIGTERM', onProcessSignal);
  }

  const events = new Subject<SyncProgressEvent>();
  let finalEvent: SyncProgressEvent | undefined;
  const progress$ = new Observable<SyncProgressEvent>((subscriber) => {
    if (finalEvent) {
      subscriber.next(finalEvent);
      subscriber.complete();
      return;
    }
    return events.subscribe(subscriber);
  });

  const summaries: SyncTargetSummary[] = options.targets.map((target) => ({
    target: `${target.provider.id}/${target.account}`,
    records: 0,
    pages: 0,
    retries: 0,
    errors: 0,
    warnings: { count: 0, distinct: [] },
    status: 'stopped',
    invalidRecords: 0,
  }));
  const invalidRecordPolicy = options.onInvalidRecord ?? 'fail';
  const deadLetters =
    invalidRecordPolicy === 'dead-letter' && !options.dryRun
      ? new JsonlAppendFile(options.deadLetterPath as string, { what: 'dead-letter file of invalid records' })
      : undefined;

  const emit = (
    type: SyncProgressEvent['type'],
    summary: SyncTargetSummary,
    extra: Partial<SyncProgressEvent> = {},
  ) => {
    events.next({
      type,
      target: summary.target,
      records: summary.records,
      pages: summary.pages,
      retries: summary.retries,
      errors: summary.errors,
      ...(summary.lagMs !== undefined ? { lagMs: summary.lagMs } : {}),
      ...(summary.checkpoint ? { checkpoint: summary.checkpoint } : {}),
      ...extra,
    });
  };

  // The checkpoint store may be one of the sinks, committing each batch's checkpoint with
  // its records (exactly-once): it then writes after the other sinks, and no separate save.
  const checkpointSink = options.sinks.find(
    (sink) => (sink as unknown) === options.checkpoints && sink.guarantee === 'exactly-once',
  );

  const syncTarget = async (target: SyncTarget, summary: SyncTargetSummary): Promise<void> => {
    const key = syncCheckpointKey(job, target);
    const log = logger.child({ target: summary.target, checkpointKey: key });
    const lag = (checkpoint: Checkpoint | undefined) =>
      checkpoint?.recordAt ? Math.max(0, now() - Date.parse(checkpoint.recordAt)) : undefined;
    let committed: Checkpoint | undefined;
    // The store may be a database whose connection was just lost: retryable errors are retried.
    const onStoreRetry = ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) => {
      summary.retries += 1;
      summary.errors += 1;
      log.warn('checkpoint store failed, retrying', { attempt, delayMs, error: errorJson(error) });
      emit('retry', summary, { error: errorJson(error) });
    };
    try {
      committed = await retryWithBackoff(() => options.checkpoints.load(key), {
        policy,
        signal: stopping.signal,
        onRetry: onStoreRetry,
      });
    } catch (error) {
      if (stopping.signal.aborted) {
        summary.status = 'stopped';
        return;
      }
      summary.status = 'failed';
      summary.error = error;
      summary.errors += 1;
      log.error('cannot load checkpoint', { error: errorJson(error) });
      emit('target-failed', summary, { status: 'failed', error: errorJson(error) });
      return;
    }
    if (committed) summary.checkpoint = committed;
    summary.lagMs = lag(committed);
    const range = resumedRange(committed, options.from, options.to, options.fromIsDefault);
    const requested = { from: range.from.toISOString(), to: options.to.toISOString() };
    summary.range = requested;
    emit('started', summary);
    for (const warning of range.warnings) {
      countWarning(summary.warnings, warning);
      log.warn('sync warning', { code: warning.code, message: warning.message });
      emit('warning', summary, { warning });
    }
    log.info('target started', { resumeFrom: committed ?? null, from: requested.from, to: requested.to });
    const onInvalidRecord =
      invalidRecordPolicy === 'fail'
        ? undefined
        : async (invalid: InvalidRecord) => {
            summary.invalidRecords += 1;
            const id = String((invalid.record as { id?: unknown } | null)?.id).slice(0, 200);
            log.warn(`invalid record ${invalidRecordPolicy === 'skip' ? 'skipped' : 'dead-lettered'}`, {
              recordId: id,
              reason: invalid.reason,
            });
            await deadLetters?.append({
              at: new Date(now()).toISOString(),
              target: summary.target,
              checkpointKey: key,
              reason: invalid.reason,
              issues: invalid.issues,
              record: invalid.record,
            } satisfies InvalidRecordDeadLetter);
          };

    // Consecutive failures of the stream; reset by every commit (progress was made).
    let streamFailures = 0;
    while (true) {
      if (stopping.signal.aborted) {
        summary.status = 'stopped';
        break;
      }
      try {
        const opened: RecordStream = target.provider.records({
          account: target.account,
          from: range.from,
          to: options.to,
          ...(committed ? { resumeFrom: committed } : {}),
        });
        if (typeof opened?.batches !== 'function') {
          throw coreError(
            'KEFU_PLUGIN_INVALID',
            `provider ${target.provider.id} returned no RecordStream from records(); build it with \`new RecordStream(key, pageSource, resumeFrom)\``,
          );
        }
        // A stream from another copy of core may lack withOptions: use it as it is.
        const stream =
          typeof opened.withOptions === 'function'
            ? opened.withOptions({
                ...(options.prefetchPages !== undefined ? { prefetchPages: options.prefetchPages } : {}),
                onPageFetched: () => {
                  summary.pages += 1;
                  emit('page', summary);
                },
                // Retries inside the provider (busy platform, token refresh, resets) count too.
                onRetry: ({ attempt, delayMs, error }) => {
                  summary.retries += 1;
                  summary.errors += 1;
                  log.debug('provider retried a request', { attempt, delayMs, error: errorJson(error) });
                  emit('retry', summary, { error: errorJson(error) });
                },
                onWarning: (warning) => {
                  countWarning(summary.warnings, warning);
                  log.warn('provider warning', {
                    code: warning.code,
                    message: warning.message,
                    details: warning.details,
                  });
                  emit('warning', summary, { warning });
                },
                ...(onInvalidRecord ? { onInvalidRecord } : {}),
              })
            : opened;
        await pipeToSinks(stream, options.dryRun ? [] : options.sinks, {
          checkpointKey: key,
          ...(checkpointSink && !options.dryRun ? { checkpointSink } : {}),
          batchSize: options.batchSize ?? 500,
          ...(options.maxBatchWaitMs !== undefined ? { maxWaitMs: options.maxBatchWaitMs } : {}),
          ...(options.maxInFlightBatches !== undefined ? { maxInFlightBatches: options.maxInFlightBatches } : {}),
          signal: stopping.signal,
          writeRetry: policy,
          // Every stored checkpoint says which range it belongs to, so a stopped sync resumes it.
          annotateCheckpoint: (checkpoint) => ({ ...checkpoint, requested }),
          onWriteRetry: ({ sink, attempt, delayMs, error }) => {
            summary.retries += 1;
            summary.errors += 1;
            log.warn('sink write failed, retrying', { sink, attempt, delayMs, error: errorJson(error) });
            emit('retry', summary, { error: errorJson(error) });
          },
          commit: async (checkpoint, batch) => {
            // A checkpoint sink committed this checkpoint with the batch's records already
            // (a record-less batch, which only advances the checkpoint, reaches no sink).
            if (!options.dryRun && (!checkpointSink || batch.records.length === 0)) {
              await retryWithBackoff(() => options.checkpoints.save(key, checkpoint), {
                policy,
                signal: stopping.signal,
                onRetry: onStoreRetry,
              });
            }
            committed = checkpoint;
            streamFailures = 0;
            summary.records += batch.records.length;
            summary.checkpoint = checkpoint;
            summary.lagMs = lag(checkpoint);
            emit('batch-committed', summary);
          },
        });
        summary.status = 'done';
        if (committed && !options.dryRun) {
          // The range is synced to its end: later runs start their own range from here.
          const complete = { ...committed, requested: { ...requested, complete: true } };
          await retryWithBackoff(() => options.checkpoints.save(key, complete), {
            policy,
            signal: stopping.signal,
            onRetry: onStoreRetry,
          });
          committed = complete;
          summary.checkpoint = complete;
        }
        break;
      } catch (error) {
        if (isKefuError(error) && error.code === 'KEFU_SYNC_ABORTED' && stopping.signal.aborted) {
          summary.status = 'stopped';
          break;
        }
        summary.errors += 1;
        if (isQuotaExhausted(error)) {
          summary.status = 'quota-exhausted';
          summary.error = error;
          log.warn('platform quota exhausted; stopping this target until it resets', { error: errorJson(error) });
          break;
        }
        // Sink errors were already retried per write; stream errors reopen from the last commit.
        const fromSink = isKefuError(error) && error.code === 'KEFU_SINK_FAILED';
        streamFailures += 1;
        if (fromSink || !isKefuError(error) || !error.retryable || streamFailures >= policy.maxAttempts) {
          summary.status = 'failed';
          summary.error = error;
          log.error('target failed', { error: errorJson(error) });
          break;
        }
        const delayMs = error.retryAfterMs ?? backoffDelay(streamFailures, policy);
        summary.retries += 1;
        log.warn('stream failed, reopening from the last committed checkpoint', {
          attempt: streamFailures,
          delayMs,
          error: errorJson(error),
        });
        emit('retry', summary, { error: errorJson(error) });
        try {
          await sleep(delayMs, stopping.signal);
        } catch {
          summary.status = 'stopped';
          break;
        }
      }
    }
    const type = summary.status === 'failed' ? 'target-failed' : 'target-done';
    emit(type, summary, {
      status: summary.status,
      ...(summary.error !== undefined ? { error: errorJson(summary.error) } : {}),
    });
    log.info('target ended', { status: summary.status, records: summary.records, pages: summary.pages });
  };

  /**
   * Before any target starts: every target without stored state gets an empty checkpoint
   * recording the range asked for, so a sync stopped before reaching it resumes that range.
   */
  const persistRequestedRanges = async () => {
    if (options.dryRun) return;
    const requested = { from: options.from.toISOString(), to: options.to.toISOString() };
    for (const target of options.targets) {
      if (stopping.signal.aborted) return;
      const key = syncCheckpointKey(job, target);
      try {
        const retry = { policy, signal: stopping.signal };
        if (await retryWithBackoff(() => options.checkpoints.load(key), retry)) continue;
        // Cold: opening the stream fetches nothing; its key is what checkpoints name.
        const { key: stream } = target.provider.records({
          account: target.account,
          from: options.from,
          to: options.to,
        });
        const pending: Checkpoint = {
          provider: stream.provider,
          account: stream.account,
          position: null,
          skip: 0,
          requested,
        };
        await retryWithBackoff(() => options.checkpoints.save(key, pending), retry);
      } catch (error) {
        // The target meets the same trouble when it starts, and reports it there.
        logger.debug('could not record the requested range before starting', {
          checkpointKey: key,
          error: errorJson(error),
        });
      }
    }
  };

  const run = async (): Promise<SyncSummary> => {
    const concurrency = options.concurrency ?? 2;
    await persistRequestedRanges();
    let nextIndex = 0;
    const worker = async () => {
      while (nextIndex < options.targets.length) {
        const index = nextIndex++;
        if (stopping.signal.aborted) continue;
        await syncTarget(options.targets[index] as SyncTarget, summaries[index] as SyncTargetSummary);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, options.targets.length) }, worker));
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      if (options.handleProcessSignals) {
        process.off('SIGINT', onProcessSignal);
        process.off('SIGTERM', onProcessSignal);
      }
    }
    const summary: SyncSummary = {
      targets: summaries,
      records: summaries.reduce((sum, t) => sum + t.records, 0),
      durationMs: now() - startedAt,
      stopped: stopping.signal.aborted,
    };
    finalEvent = {
      type: 'done',
      records: summary.records,
      pages: summaries.reduce((sum, t) => sum + t.pages, 0),
      retries: summaries.reduce((sum, t) => sum + t.retries, 0),
      errors: summaries.reduce((sum, t) => sum + t.errors, 0),
    };
    events.next(finalEvent);
    events.complete();
    logger.info('sync done', { records: summary.records, durationMs: summary.durationMs, stopped: summary.stopped });
    return summary;
  };

  // Started on the next microtask, so callers can subscribe to progress$ first.
  const done = Promise.resolve().then(run);
  return { progress$, done, stop };
}
