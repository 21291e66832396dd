import type { Observable } from 'rxjs';
import type { Checkpoint, CheckpointStore } from './checkpoint.js';
import type { KefuLogger } from './logger.js';
import type { KefuProvider } from './provider.js';
import type { ProviderWarning } from './record-stream.js';
import type { RetryPolicy } from './retry.js';
import type { RecordSink } from './sink.js';

/** The shapes of a sync: its options, progress events and summaries (see `runSync`). */

/** One stream to sync: an account of a provider. */
export interface SyncTarget {
  provider: KefuProvider;
  account: string;
}

/** Options of `runSync`. */
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
  /** Records per batch (default 1000: each batch is a sink transaction or fsync, so fewer, larger batches write faster). */
  batchSize?: number;
  /** A partial batch is written after this long without filling up (default: when the stream ends). */
  maxBatchWaitMs?: number;
  /** Pages fetched ahead of the writes (default 2). */
  prefetchPages?: number;
  /** Batches read and not yet committed per target (default 2). */
  maxInFlightBatches?: number;
  /**
   * Bytes of records read and not yet committed per target, at most (plus one page):
   * pages fetched ahead, the batch being gathered and batches being written (default
   * 32 MiB, estimated sizes). Bounds memory when records are large.
   */
  maxBufferedBytes?: number;
  /** Back-off for retryable errors of sinks (each write) and streams (reopened from the last commit). Default {@link defaultRetryPolicy}. */
  retry?: RetryPolicy;
  /** Aborting stops the sync gracefully, like `SyncRun.stop`. */
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
