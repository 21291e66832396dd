import { coreError } from './errors.js';
import type { KefuLogger } from './logger.js';

/**
 * How a sync is stopped: `stop()`, the caller's signal, or SIGINT/SIGTERM all abort one
 * signal with KEFU_SYNC_ABORTED, once. `dispose()` removes the listeners it added, so a
 * finished sync leaves nothing attached to the process or to the caller's signal.
 */
export class SyncStopController {
  readonly #stopping = new AbortController();
  readonly #logger: KefuLogger;
  readonly #outerSignal: AbortSignal | undefined;
  readonly #handleProcessSignals: boolean;
  readonly #onOuterAbort = () => this.stop('signal aborted');
  readonly #onProcessSignal = (signal: NodeJS.Signals) => this.stop(signal);

  constructor(options: { logger: KefuLogger; signal?: AbortSignal; handleProcessSignals?: boolean }) {
    this.#logger = options.logger;
    this.#outerSignal = options.signal;
    this.#handleProcessSignals = options.handleProcessSignals ?? false;
    if (this.#outerSignal?.aborted) this.#onOuterAbort();
    this.#outerSignal?.addEventListener('abort', this.#onOuterAbort, { once: true });
    if (this.#handleProcessSignals) {
      process.on('SIGINT', this.#onProcessSignal);
      process.on('SIGTERM', this.#onProcessSignal);
    }
  }

  /** Aborted once the sync is asked to stop; its reason is a KEFU_SYNC_ABORTED error. */
  get signal(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Asks the sync to stop gracefully; later calls do nothing. */
  stop(reason?: string): void {
    if (this.#stopping.signal.aborted) return;
    this.#logger.info('sync stopping', { reason: reason ?? 'stop requested' });
    this.#stopping.abort(coreError('KEFU_SYNC_ABORTED', `sync stopped: ${reason ?? 'stop requested'}`));
  }

  /** Removes the listeners on the caller's signal and on the process. */
  dispose(): void {
    this.#outerSignal?.removeEventListener('abort', this.#onOuterAbort);
    if (this.#handleProcessSignals) {
      process.off('SIGINT', this.#onProcessSignal);
      process.off('SIGTERM', this.#onProcessSignal);
    }
  }
}
