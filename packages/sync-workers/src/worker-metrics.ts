import { Counter, Gauge, Registry } from 'prom-client';
import type { WorkerEvent } from './sync-worker.js';

const splitTarget = (target: string) => {
  const slash = target.indexOf('/');
  return { provider: target.slice(0, slash), account: target.slice(slash + 1) };
};

/**
 * A worker's counters in Prometheus form, named like `kefu serve`'s `/metrics` (records in
 * by provider, account and source; retries by component; lag per target) plus the fleet's
 * own: syncs by status, claims by kind, dead letters, accounts running. Feed it the
 * worker's events (`onEvent: (e) => metrics.observe(e)`).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  /** Records committed by this worker (`source` is `worker`, as `push`/`backfill` in serve). */
  readonly recordsIn = new Counter({
    name: 'kefu_records_in_total',
    help: 'Records received, by provider, account and source (push, backfill, worker).',
    labelNames: ['provider', 'account', 'source'] as const,
    registers: [this.registry],
  });
  /** Retries of failed account syncs. */
  readonly retries = new Counter({
    name: 'kefu_retries_total',
    help: 'Retries, by component (drain, backfill, worker).',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });
  /** Account syncs that ended here, by status. */
  readonly syncs = new Counter({
    name: 'kefu_worker_syncs_total',
    help: 'Account syncs this worker ended, by status (done, failed, stopped, quota-exhausted, lease-lost).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  /** Jobs this worker took: a first try, a retry, or a takeover from a dead worker. */
  readonly claims = new Counter({
    name: 'kefu_worker_claims_total',
    help: 'Account jobs this worker started, by kind (first, retry, takeover).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  /** Accounts this worker sent to the dead-letter queue. */
  readonly deadLetters = new Counter({
    name: 'kefu_worker_dead_letters_total',
    help: 'Accounts whose sync failed past the retry limit and went to the dead-letter queue.',
    registers: [this.registry],
  });
  /** Accounts syncing in this worker now. */
  readonly active = new Gauge({
    name: 'kefu_worker_active_accounts',
    help: 'Accounts this worker is syncing now.',
    registers: [this.registry],
  });
  /** Now minus the end of the last successful sync, per target this worker synced. */
  readonly lag: Gauge<'target'>;
  readonly #lastDone = new Map<string, number>();
  #running = 0;

  constructor() {
    const lastDone = this.#lastDone;
    this.lag = new Gauge({
      name: 'kefu_sync_lag_seconds',
      help: 'Seconds since the last successful sync of a target ended (targets this worker synced).',
      labelNames: ['target'] as const,
      registers: [this.registry],
      collect() {
        const now = Date.now();
        for (const [target, at] of lastDone) this.set({ target }, (now - at) / 1000);
      },
    });
  }

  /** Counts one worker event. */
  observe(event: WorkerEvent): void {
    switch (event.type) {
      case 'claimed':
        this.#running += 1;
        this.active.set(this.#running);
        this.claims.inc({ kind: event.previousOwner ? 'takeover' : event.attempt > 1 ? 'retry' : 'first' });
        if (event.attempt > 1) this.retries.inc({ component: 'worker' });
        return;
      case 'batch-committed':
        this.recordsIn.inc({ ...splitTarget(event.target), source: 'worker' }, event.records);
        return;
      case 'released':
        this.#ended(event.status);
        if (event.status === 'done') this.#lastDone.set(event.target, Date.now());
        return;
      case 'retry-scheduled':
        this.#ended('failed');
        return;
      case 'dead-lettered':
        this.#ended('failed');
        this.deadLetters.inc();
        return;
      case 'lease-lost':
        this.#ended('lease-lost');
        return;
      default:
        return;
    }
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #ended(status: string): void {
    this.#running = Math.max(0, this.#running - 1);
    this.active.set(this.#running);
    this.syncs.inc({ status });
  }
}
