import { coreError } from './errors.js';
import { JsonlAppendFile } from './jsonl-append-file.js';
import { silentLogger } from './logger.js';
import { defaultRetryPolicy } from './retry.js';
import { transactionalCheckpointSink } from './sink.js';
import { SyncProgress } from './sync-progress.js';
import { recordRequestedRanges, syncCheckpointKey } from './sync-resume.js';
import { SyncStopController } from './sync-stop-controller.js';
import { type TargetRunContext, TargetSyncRunner } from './sync-target-runner.js';
import type { SyncOptions, SyncRun, SyncSummary, SyncTargetSummary } from './sync-types.js';
import { runWithConcurrency } from './sync-worker-pool.js';

/**
 * The sync pipeline: provider → batches → every sink → checkpoint, per target, with
 * bounded concurrency, retries, graceful stop and progress events. Delivery is
 * at-least-once (exactly-once with transactional sinks): a checkpoint is stored only
 * after every sink acknowledged every record before it.
 *
 * The parts, each in its own file: `sync-target-runner.ts` syncs one target (load,
 * stream, reopen after failures), `sync-stop-controller.ts` turns stop(), the caller's
 * signal and SIGINT/SIGTERM into one signal, `sync-progress.ts` carries the events,
 * `sync-worker-pool.ts` runs targets a few at a time, and `sync-resume.ts` decides where
 * a target resumes. This file checks the options and wires them together.
 */

export { resumedRange, syncCheckpointKey } from './sync-resume.js';
export { isQuotaExhausted } from './sync-target-runner.js';
export * from './sync-types.js';

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
    ['maxBufferedBytes', options.maxBufferedBytes, 1024],
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
  const stopping = new SyncStopController({
    logger,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.handleProcessSignals ? { handleProcessSignals: true } : {}),
  });
  const progress = new SyncProgress();
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
  const context: TargetRunContext = {
    options,
    job,
    logger,
    now,
    policy,
    signal: stopping.signal,
    progress,
    deadLetters:
      options.onInvalidRecord === 'dead-letter' && !options.dryRun
        ? new JsonlAppendFile(options.deadLetterPath as string, { what: 'dead-letter file of invalid records' })
        : undefined,
    // The checkpoint store may be one of the sinks, committing each batch's checkpoint with
    // its records (exactly-once): it then writes after the other sinks, and no separate save.
    checkpointSink: options.dryRun ? undefined : transactionalCheckpointSink(options.sinks, options.checkpoints),
  };

  const run = async (): Promise<SyncSummary> => {
    if (!options.dryRun) {
      const { targets, from, to, checkpoints } = options;
      await recordRequestedRanges({ targets, job, from, to, checkpoints, policy, signal: stopping.signal, logger });
    }
    try {
      await runWithConcurrency(options.targets, options.concurrency ?? 2, stopping.signal, (target, index) =>
        new TargetSyncRunner(context, target, summaries[index] as SyncTargetSummary).run(),
      );
    } finally {
      stopping.dispose();
    }
    const summary: SyncSummary = {
      targets: summaries,
      records: summaries.reduce((sum, target) => sum + target.records, 0),
      durationMs: now() - startedAt,
      stopped: stopping.signal.aborted,
    };
    progress.finish(summaries, summary.records);
    logger.info('sync done', { records: summary.records, durationMs: summary.durationMs, stopped: summary.stopped });
    return summary;
  };

  // Started on the next microtask, so callers can subscribe to progress$ first.
  const done = Promise.resolve().then(run);
  return { progress$: progress.events$, done, stop: (reason) => stopping.stop(reason) };
}
