import type { Checkpoint, CheckpointStore } from './checkpoint.js';
import { type CoreErrorCode, coreError } from './errors.js';
import type { KefuLogger } from './logger.js';
import type { ProviderWarning } from './record-stream.js';
import { type RetryPolicy, retryWithBackoff } from './retry.js';
import { errorJson } from './sync-progress.js';
import type { SyncTarget } from './sync-types.js';

/** Where a target's sync resumes: its checkpoint key and the range it resumes over. */

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

/**
 * Before any target starts: every target without stored state gets an empty checkpoint
 * recording the range asked for, so a sync stopped before reaching it resumes that range.
 * A target whose state cannot be read or written here meets the same trouble when it
 * starts, and reports it there.
 */
export async function recordRequestedRanges(options: {
  targets: readonly SyncTarget[];
  job: string;
  from: Date;
  to: Date;
  checkpoints: CheckpointStore;
  policy: RetryPolicy;
  signal: AbortSignal;
  logger: KefuLogger;
}): Promise<void> {
  const requested = { from: options.from.toISOString(), to: options.to.toISOString() };
  const retry = { policy: options.policy, signal: options.signal };
  for (const target of options.targets) {
    if (options.signal.aborted) return;
    const key = syncCheckpointKey(options.job, target);
    try {
      if (await retryWithBackoff(() => options.checkpoints.load(key), retry)) continue;
      // Cold: opening the stream fetches nothing; its key is what checkpoints name.
      const { key: stream } = target.provider.records({ account: target.account, from: options.from, to: options.to });
      const pending: Checkpoint = {
        provider: stream.provider,
        account: stream.account,
        position: null,
        skip: 0,
        requested,
      };
      await retryWithBackoff(() => options.checkpoints.save(key, pending), retry);
    } catch (error) {
      options.logger.debug('could not record the requested range before starting', {
        checkpointKey: key,
        error: errorJson(error),
      });
    }
  }
}
