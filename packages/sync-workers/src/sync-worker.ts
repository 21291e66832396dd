import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type CheckpointStore,
  isKefuError,
  type KefuLogger,
  type KefuProvider,
  type RecordSink,
  runSync,
  type SyncOptions,
  type SyncRun,
  type SyncTargetStatus,
  silentLogger,
  sleep,
} from '@kefu/core';
import type { Pool } from 'pg';
import { AccountLeaseTable, type ClaimedAccount, type WorkAccountKey } from './account-lease-table.js';
import { syncWorkersError } from './errors.js';
import { parseSyncWorkerSettings, type SyncWorkerSettings, type SyncWorkerSettingsInput } from './worker-config.js';

/** Tuning passed through to core's `runSync` for every leased account (and what to do with invalid records). */
export type WorkerSyncTuning = Pick<
  SyncOptions,
  | 'batchSize'
  | 'maxBatchWaitMs'
  | 'prefetchPages'
  | 'maxInFlightBatches'
  | 'maxBufferedBytes'
  | 'retry'
  | 'onInvalidRecord'
  | 'deadLetterPath'
>;

/** Options of {@link SyncWorker}: the settings plus the runtime pieces it drives. */
export interface SyncWorkerOptions extends SyncWorkerSettingsInput {
  /** PostgreSQL holding the work table (see {@link openWorkerPool}). */
  pool: Pool;
  /** The providers whose accounts the fleet shares; every worker of a job uses the same instance ids. */
  providers: readonly KefuProvider[];
  /** Where records go (fan-out, as in `kefu sync`). */
  sinks: readonly RecordSink[];
  /**
   * Where checkpoints live: must be shared by the fleet. A `TransactionalSink` that is also one
   * of `sinks` (the @kefu/sink-db `DatabaseSink`) commits each batch's records and checkpoint together.
   */
  checkpoints: CheckpointStore;
  /** Start of the range for accounts without a checkpoint (a stopped sync's stored range wins). */
  from: Date;
  /** True when `from` is a default, not asked for: no warning when an account resumes its stored range. */
  fromIsDefault?: boolean;
  /** End of the range (default: now, when the account is claimed). */
  to?: Date;
  /** Batch size, prefetch, retries of each account's sync. */
  sync?: WorkerSyncTuning;
  logger?: KefuLogger;
  /** Aborting stops the worker like {@link SyncWorker.stop}. */
  signal?: AbortSignal;
  /** Observes what the worker does (claims, commits, releases), e.g. for progress output. */
  onEvent?: (event: WorkerEvent) => void;
}

/** Something a worker did. `target` is `providerId/account`. */
export type WorkerEvent =
  | { type: 'registered'; accounts: number; added: number }
  | { type: 'claimed'; target: string; previousOwner?: string }
  | { type: 'batch-committed'; target: string; records: number }
  | { type: 'released'; target: string; status: SyncTargetStatus; records: number }
  | { type: 'lease-lost'; target: string; records: number }
  | { type: 'poll-failed'; error: Record<string, unknown> };

/** How one leased sync of an account ended. */
export interface AccountRunSummary {
  target: string;
  /** The sync's status, or `lease-lost` when another worker took the account meanwhile. */
  status: SyncTargetStatus | 'lease-lost';
  records: number;
  /** Set when this run took over an expired lease of that worker. */
  tookOverFrom?: string;
  error?: unknown;
}

/** What a worker did until it stopped. */
export interface WorkerSummary {
  workerId: string;
  /** Every leased sync, in the order they ended. */
  runs: AccountRunSummary[];
  /** Records committed by this worker. */
  records: number;
  /** True when stopped (signal, stop()) rather than finished (`once`). */
  stopped: boolean;
}

/** One account being synced by this worker. */
interface ActiveAccount {
  claim: ClaimedAccount;
  target: string;
  /** Undefined when the account was released without a sync (not served by this worker). */
  run: SyncRun | undefined;
  leaseLost: boolean;
  finished: Promise<void>;
}

const targetOf = (key: WorkAccountKey) => `${key.providerId}/${key.account}`;

/**
 * One worker of a fleet that shares the accounts of a job through PostgreSQL. It
 * registers its providers' accounts, then loops: claim due accounts (up to
 * `concurrency`), sync each with core's `runSync` from its stored checkpoint while a
 * heartbeat renews the leases, release each lease with the outcome. A worker that dies
 * stops renewing; its leases expire after `leaseSeconds` and other workers resume its
 * accounts from their checkpoints. With a `TransactionalSink` as both sink and checkpoint
 * store, such as the @kefu/sink-db `DatabaseSink`, every record lands in the database exactly once.
 *
 * @example
 * ```ts
 * const pool = openWorkerPool(process.env.DATABASE_URL!);
 * const db = new DatabaseSink({ url: process.env.DATABASE_URL! });
 * const worker = new SyncWorker({ pool, job: 'hourly', providers: [wechat], sinks: [db], checkpoints: db, from: new Date('2026-11-01'), once: true });
 * const summary = await worker.run();
 * ```
 */
export class SyncWorker {
  /** This worker's `lease_owner`. */
  readonly id: string;
  /** The validated settings. */
  readonly settings: SyncWorkerSettings;
  readonly #options: SyncWorkerOptions;
  readonly #table: AccountLeaseTable;
  readonly #providers: ReadonlyMap<string, KefuProvider>;
  readonly #logger: KefuLogger;
  readonly #stopping = new AbortController();
  readonly #active = new Map<string, ActiveAccount>();
  readonly #runs: AccountRunSummary[] = [];
  #running: Promise<WorkerSummary> | undefined;

  /** Validates the options (WORKERS_CONFIG_INVALID / WORKERS_NO_ACCOUNTS); nothing runs before {@link run}. */
  constructor(options: SyncWorkerOptions) {
    const { pool, providers, sinks, checkpoints, from, fromIsDefault, to, sync, logger, signal, onEvent, ...settings } =
      options;
    this.settings = parseSyncWorkerSettings(settings);
    if (!(from instanceof Date) || Number.isNaN(from.getTime())) {
      throw syncWorkersError('WORKERS_CONFIG_INVALID', 'sync worker: `from` must be a valid Date');
    }
    if (to !== undefined && (!(to instanceof Date) || Number.isNaN(to.getTime()) || to < from)) {
      throw syncWorkersError('WORKERS_CONFIG_INVALID', 'sync worker: `to` must be a valid Date, not before `from`');
    }
    if (typeof pool?.query !== 'function') {
      throw syncWorkersError('WORKERS_CONFIG_INVALID', 'sync worker: `pool` must be a pg Pool (see openWorkerPool)');
    }
    if (providers.length === 0 || providers.every((provider) => provider.accounts().length === 0)) {
      throw syncWorkersError('WORKERS_NO_ACCOUNTS', 'sync worker: no provider accounts to share');
    }
    if (sinks.length === 0) {
      throw syncWorkersError('WORKERS_CONFIG_INVALID', 'sync worker: `sinks` is empty; records would go nowhere');
    }
    this.#options = options;
    this.id = this.settings.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#table = new AccountLeaseTable(pool, this.settings.table);
    this.#providers = new Map(providers.map((provider) => [provider.id, provider]));
    this.#logger = (logger ?? silentLogger).child({ worker: this.id, job: this.settings.job });
    if (signal?.aborted) this.stop('signal aborted');
    signal?.addEventListener('abort', () => this.stop('signal aborted'), { once: true });
  }

  /** The work table this worker uses (status views, tests). */
  get table(): AccountLeaseTable {
    return this.#table;
  }

  /** Runs until stopped (or, with `once`, until no account is due or leased); one run per worker. */
  run(): Promise<WorkerSummary> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /** Stops claiming and stops running syncs at a batch boundary; their leases are released as due now. */
  stop(reason = 'stop requested'): void {
    if (this.#stopping.signal.aborted) return;
    this.#logger.info('worker stopping', { reason });
    this.#stopping.abort();
    for (const active of this.#active.values()) active.run?.stop(reason);
  }

  async #loop(): Promise<WorkerSummary> {
    const { job, concurrency, leaseSeconds, pollIntervalMs, once } = this.settings;
    const keys = [...this.#providers.values()].flatMap((provider) =>
      provider.accounts().map((account) => ({ providerId: provider.id, account })),
    );
    const added = await this.#table.register(job, keys);
    this.#emit({ type: 'registered', accounts: keys.length, added });
    this.#logger.info('worker started', { accounts: keys.length, added, concurrency, leaseSeconds });
    const heartbeat = this.#startHeartbeat();
    const providerIds = [...this.#providers.keys()];
    let stopped = true;
    try {
      while (!this.#stopping.signal.aborted) {
        const free = concurrency - this.#active.size;
        let claimed: ClaimedAccount[] = [];
        try {
          if (free > 0) claimed = await this.#table.claim(job, this.id, providerIds, free, leaseSeconds);
          if (claimed.length === 0 && this.#active.size === 0 && once) {
            if (!(await this.#table.hasPendingWork(job, providerIds))) {
              stopped = false;
              break;
            }
          }
        } catch (error) {
          if (!isKefuError(error) || !error.retryable) throw error;
          this.#logger.warn('polling the work table failed; retrying', { error: error.toJSON() });
          this.#emit({ type: 'poll-failed', error: error.toJSON() });
        }
        for (const claim of claimed) this.#start(claim);
        if (claimed.length > 0 && this.#active.size < concurrency) continue;
        // Wake on the next poll, when a sync ends (a slot frees up), or on stop.
        await Promise.race([
          sleep(pollIntervalMs, this.#stopping.signal).catch(() => undefined),
          ...[...this.#active.values()].map((active) => active.finished),
        ]);
      }
    } finally {
      this.stop('worker loop ended');
      await Promise.all([...this.#active.values()].map((active) => active.finished));
      clearInterval(heartbeat);
    }
    const summary: WorkerSummary = {
      workerId: this.id,
      runs: this.#runs,
      records: this.#runs.reduce((sum, run) => sum + run.records, 0),
      stopped,
    };
    this.#logger.info('worker done', { runs: summary.runs.length, records: summary.records });
    return summary;
  }

  #start(claim: ClaimedAccount): void {
    const target = targetOf(claim);
    this.#emit({ type: 'claimed', target, ...(claim.previousOwner ? { previousOwner: claim.previousOwner } : {}) });
    this.#logger.info('account claimed', {
      target,
      ...(claim.previousOwner ? { tookOverFrom: claim.previousOwner } : {}),
    });
    const provider = this.#providers.get(claim.providerId);
    if (!provider?.accounts().includes(claim.account)) {
      // Another worker's config registered it: leave it to a worker that serves it.
      this.#finishWithoutSync(claim, target);
      return;
    }
    const { sinks, checkpoints, from, fromIsDefault, to, sync } = this.#options;
    const run = runSync({
      job: this.settings.job,
      targets: [{ provider, account: claim.account }],
      concurrency: 1,
      sinks: [...sinks],
      checkpoints,
      from,
      ...(fromIsDefault ? { fromIsDefault } : {}),
      to: to ?? new Date(),
      logger: this.#logger,
      ...sync,
    });
    const active: ActiveAccount = { claim, target, run, leaseLost: false, finished: Promise.resolve() };
    const subscription = run.progress$.subscribe((event) => {
      if (event.type === 'batch-committed') this.#emit({ type: 'batch-committed', target, records: event.records });
    });
    active.finished = run.done
      .then(async (summary) => {
        const result = summary.targets[0];
        const records = result?.records ?? 0;
        if (active.leaseLost) {
          this.#runs.push({ target, status: 'lease-lost', records });
          this.#emit({ type: 'lease-lost', target, records });
          return;
        }
        const status = result?.status ?? 'failed';
        const errorMessage = result?.error instanceof Error ? result.error.message : undefined;
        if (!(await this.#release(claim, status, records, errorMessage))) {
          // Taken over between the last heartbeat and the end of the sync.
          this.#runs.push({ target, status: 'lease-lost', records });
          this.#emit({ type: 'lease-lost', target, records });
          return;
        }
        this.#runs.push({
          target,
          status,
          records,
          ...(claim.previousOwner ? { tookOverFrom: claim.previousOwner } : {}),
          ...(result?.error !== undefined ? { error: result.error } : {}),
        });
        this.#emit({ type: 'released', target, status, records });
      })
      .catch((error: unknown) => {
        // Releasing failed (database away): the lease expires and another worker retries.
        this.#logger.error('could not release a lease', { target, error: String(error) });
        this.#runs.push({ target, status: 'failed', records: 0, error });
      })
      .finally(() => {
        subscription.unsubscribe();
        this.#active.delete(target);
      });
    this.#active.set(target, active);
  }

  #finishWithoutSync(claim: ClaimedAccount, target: string): void {
    const error = `provider ${claim.providerId} of this worker does not serve account ${claim.account}`;
    this.#logger.warn('claimed an account this worker cannot sync', { target });
    const finished = this.#release(claim, 'failed', 0, error)
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => this.#active.delete(target));
    this.#active.set(target, {
      claim,
      target,
      run: undefined,
      leaseLost: false,
      finished,
    });
    this.#runs.push({ target, status: 'failed', records: 0, error });
  }

  /** Releases the lease with the outcome; false when another worker owns it by now. */
  async #release(claim: ClaimedAccount, status: SyncTargetStatus, records: number, error?: string): Promise<boolean> {
    const { resyncIntervalSeconds, retryDelaySeconds, quotaRetryDelaySeconds, job } = this.settings;
    const dueInSeconds = {
      done: resyncIntervalSeconds,
      failed: retryDelaySeconds,
      'quota-exhausted': quotaRetryDelaySeconds,
      // Stopped mid-way (SIGTERM, shutdown): due at once, for the next worker.
      stopped: 0,
    }[status];
    const released = await this.#table.release(job, this.id, claim, {
      status,
      records,
      dueInSeconds,
      ...(error !== undefined ? { error } : {}),
    });
    if (!released) {
      this.#logger.warn('lease was already taken over when releasing', { target: targetOf(claim) });
      return false;
    }
    this.#logger.info('account released', { target: targetOf(claim), status, records });
    return true;
  }

  /** Renews every held lease; a lease missing from the answer, or none renewed for a whole lease period, is lost. */
  #startHeartbeat(): NodeJS.Timeout {
    const { job, leaseSeconds } = this.settings;
    const periodMs = (this.settings.heartbeatSeconds ?? leaseSeconds / 3) * 1000;
    let lastRenewal = Date.now();
    let renewing = false;
    const timer = setInterval(() => {
      if (renewing || this.#active.size === 0) {
        if (this.#active.size === 0) lastRenewal = Date.now();
        return;
      }
      renewing = true;
      const before = [...this.#active.values()];
      this.#table
        .renew(job, this.id, leaseSeconds)
        .then((held) => {
          lastRenewal = Date.now();
          const stillHeld = new Set(held.map(targetOf));
          for (const active of before) {
            if (this.#active.get(active.target) === active && !stillHeld.has(active.target)) this.#loseLease(active);
          }
        })
        .catch((error: unknown) => {
          this.#logger.warn('renewing leases failed', { error: String(error) });
          // Past the lease period another worker may already own these accounts.
          if (Date.now() - lastRenewal >= leaseSeconds * 1000) {
            for (const active of this.#active.values()) this.#loseLease(active);
          }
        })
        .finally(() => {
          renewing = false;
        });
    }, periodMs);
    timer.unref();
    return timer;
  }

  #loseLease(active: ActiveAccount): void {
    if (active.leaseLost) return;
    active.leaseLost = true;
    this.#logger.warn('lease lost; stopping this account', { target: active.target });
    active.run?.stop('lease lost');
  }

  #emit(event: WorkerEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      this.#logger.warn('onEvent threw', { error: String(error) });
    }
  }
}
