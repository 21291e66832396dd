import { Observable, Subject } from 'rxjs';
import { isKefuError } from './errors.js';
import type { ProviderWarning } from './record-stream.js';
import {
  MAX_DISTINCT_WARNINGS,
  type SyncErrorJson,
  type SyncProgressEvent,
  type SyncTargetSummary,
  type SyncWarnings,
} from './sync-types.js';

/**
 * The progress events of one sync: hot, and a subscriber arriving after the end still
 * receives the final `done` event (a CLI subscribing late must not wait forever).
 */
export class SyncProgress {
  readonly #events = new Subject<SyncProgressEvent>();
  #finalEvent: SyncProgressEvent | undefined;

  /** The events, as `SyncRun.progress$` hands them out. */
  readonly events$ = new Observable<SyncProgressEvent>((subscriber) => {
    if (this.#finalEvent) {
      subscriber.next(this.#finalEvent);
      subscriber.complete();
      return;
    }
    return this.#events.subscribe(subscriber);
  });

  /** Emits an event of a target carrying its counters as they are now. */
  emit(type: SyncProgressEvent['type'], summary: SyncTargetSummary, extra: Partial<SyncProgressEvent> = {}): void {
    this.#events.next({
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
  }

  /** Emits the run-wide `done` event with the totals of `summaries`, and completes. */
  finish(summaries: readonly SyncTargetSummary[], records: number): void {
    const total = (count: (summary: SyncTargetSummary) => number) =>
      summaries.reduce((sum, summary) => sum + count(summary), 0);
    this.#finalEvent = {
      type: 'done',
      records,
      pages: total((summary) => summary.pages),
      retries: total((summary) => summary.retries),
      errors: total((summary) => summary.errors),
    };
    this.#events.next(this.#finalEvent);
    this.#events.complete();
  }
}

/** Counts a warning and keeps it when its code is new and there is room. */
export function countWarning(warnings: SyncWarnings, warning: ProviderWarning): void {
  warnings.count += 1;
  const known = warnings.distinct.some((kept) => kept.code === warning.code);
  if (!known && warnings.distinct.length < MAX_DISTINCT_WARNINGS) warnings.distinct.push(warning);
}

/** Error JSON for events and logs (KefuErrors know how; others give name and message). */
export function errorJson(error: unknown): SyncErrorJson {
  if (isKefuError(error)) return error.toJSON();
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}
