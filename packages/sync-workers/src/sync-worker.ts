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
import type { JobWithMetadata } from 'pg-boss';
import { AccountRegistry, type SyncOutcomeStatus, type WorkAccountKey } from './account-registry.js';
import { syncWorkersError } from './errors.js';
import { toWorkersDatabaseError } from './postgres-errors.js';
import { nextQuotaReset } from './quota-reset.js';
import { type AccountJobData, SyncQueue, singletonKeyOf } from './sync-queue.js';
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
  /** PostgreSQL holding the account registry and pg-boss's tables (see {@link openWorkerPool}). */
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
  /** Accounts registered at start; `scheduled` got their first job now (new or migrated accounts). */
  | { type: 'registered'; accounts: number; added: number; scheduled: number }
  /** A job of the account started here; `attempt` counts from 1; `previousOwner` when a dead worker held it. */
  | { type: 'claimed'; target: string; attempt: number; previousOwner?: string }
  | { type: 'batch-committed'; target: string; records: number }
  /** The sync ended; `nextDueAt` is when its next job is due (none on a cron schedule or when failed). */
  | { type: 'released'; target: string; status: SyncTargetStatus; records: number; nextDueAt?: string }
  /** A failed sync will be retried by pg-boss after its back-off. */
  | { type: 'retry-scheduled'; target: string; attempt: number; retryLimit: number; error: string }
  /** A sync failed past the retry limit: the job is in the dead-letter queue, the account `dead`. */
  | { type: 'dead-lettered'; target: string; attempts: number; error: string }
  /** The job was taken from this worker (its heartbeat was missed): the sync stopped at a batch boundary. */
  | { type: 'lease-lost'; target: string; records: number }
  /** The account is paused, dead or not served here: the job ended without a sync. */
  | { type: 'skipped'; target: string; reason: string }
  | { type: 'poll-failed'; error: Record<string, unknown> };

/** How one leased sync of an account ended. */
export interface AccountRunSummary {
  target: string;
  /** The sync's status, or `lease-lost` when another worker took the account meanwhile. */
  status: SyncTargetStatus | 'lease-lost';
  /** True when the failure sent the account to the dead-letter queue. */
  deadLettered?: boolean;
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
  target: string;
  run: SyncRun;
}

const targetOf = (key: WorkAccountKey) => `${key.providerId}/${key.account}`;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * One worker of a fleet that shares the accounts of a job through pg-boss on PostgreSQL.
 * It registers its providers' accounts, queues a first job for each account that has
 * none, and works the job's queue: each job syncs one account with core's `runSync` from
 * its stored checkpoint, then queues the account's next sync (after `resyncIntervalSeconds`,
 * at the next quota reset after WeChat 45009, at once after a stop) or, failed, lets
 * pg-boss retry it with exponential back-off until `retryLimit`, then dead-letter it.
 * The queue's `stately` policy keyed by account means an account is never synced by two
 * workers at once. A worker that dies stops its heartbeat; pg-boss fails the job after
 * `heartbeatSeconds` and another worker resumes the account from its checkpoint. With a
 * `TransactionalSink` as both sink and checkpoint store, such as the @kefu/sink-db
 * `DatabaseSink`, every record lands in the database exactly once.
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
  /** This worker's name in `held_by` and the logs. */
  readonly id: string;
  /** The validated settings. */
  readonly settings: SyncWorkerSettings;
  readonly #options: SyncWorkerOptions;
  readonly #registry: AccountRegistry;
  readonly #queue: SyncQueue;
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
    this.#logger = (logger ?? silentLogger).child({ worker: this.id, job: this.settings.job });
    this.#registry = new AccountRegistry(pool, this.settings.table);
    this.#queue = new SyncQueue(pool, this.settings, this.#logger, {
      // A failed poll, heartbeat or maintenance pass: pg-boss tries again on its next tick.
      onError: (error) =>
        this.#emit({ type: 'poll-failed', error: toWorkersDatabaseError(error, 'job queue').toJSON() }),
    });
    this.#providers = new Map(providers.map((provider) => [provider.id, provider]));
    if (signal?.aborted) this.stop('signal aborted');
    signal?.addEventListener('abort', () => this.stop('signal aborted'), { once: true });
  }

  /** The account registry this worker uses (status views, tests). */
  get registry(): AccountRegistry {
    return this.#registry;
  }

  /** The pg-boss queue this worker works (status views, tests). */
  get queue(): SyncQueue {
    return this.#queue;
  }

  /** Accounts syncing in this worker now. */
  get activeAccounts(): number {
    return this.#active.size;
  }

  /** Runs until stopped (or, with `once`, until none of its accounts is due or running); one run per worker. */
  run(): Promise<WorkerSummary> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /** Stops taking jobs and stops running syncs at a batch boundary; their accounts are queued as due now. */
  stop(reason = 'stop requested'): void {
    if (this.#stopping.signal.aborted) return;
    this.#logger.info('worker stopping', { reason });
    this.#stopping.abort();
    for (const active of this.#active.values()) active.run.stop(reason);
  }

  async #loop(): Promise<WorkerSummary> {
    const { concurrency, heartbeatSeconds, pollIntervalMs, once } = this.settings;
    const keys = [...this.#providers.values()].flatMap((provider) =>
      provider.accounts().map((account) => ({ providerId: provider.id, account })),
    );
    const added = await this.#registry.register(this.settings.job, keys);
    await this.#queue.start();
    let stopped = true;
    try {
      const scheduled = await this.#scheduleMissing(keys);
      this.#emit({ type: 'registered', accounts: keys.length, added, scheduled });
      this.#logger.info('worker started', { accounts: keys.length, added, scheduled, concurrency, heartbeatSeconds });
      if (this.#stopping.signal.aborted) return this.#summary(true);
      await this.#queue.boss.work(
        this.#queue.name,
        {
          localConcurrency: concurrency,
          batchSize: 1,
          includeMetadata: true,
          pollingIntervalSeconds: pollIntervalMs / 1000,
        },
        async (jobs: JobWithMetadata<AccountJobData>[]) => {
          for (const job of jobs) await this.#handle(job);
        },
      );
      stopped = await this.#waitUntilDone(once, keys.map(singletonKeyOf));
    } finally {
      this.stop('worker loop ended');
      await this.#queue.boss.offWork(this.#queue.name, { wait: true }).catch(() => undefined);
      await this.#queue.stop();
    }
    return this.#summary(stopped);
  }

  /** Resolves true when stopped, false when `once` found nothing left to do. */
  async #waitUntilDone(once: boolean, keys: readonly string[]): Promise<boolean> {
    while (!this.#stopping.signal.aborted) {
      await sleep(this.settings.pollIntervalMs, this.#stopping.signal).catch(() => undefined);
      if (!once || this.#stopping.signal.aborted || this.#active.size > 0) continue;
      try {
        if (!(await this.#queue.hasPendingWork(keys))) return false;
      } catch (error) {
        if (!isKefuError(error) || !error.retryable) throw error;
        this.#logger.warn('looking for pending work failed; retrying', { error: error.toJSON() });
        this.#emit({ type: 'poll-failed', error: error.toJSON() });
      }
    }
    return true;
  }

  #summary(stopped: boolean): WorkerSummary {
    const summary: WorkerSummary = {
      workerId: this.id,
      runs: this.#runs,
      records: this.#runs.reduce((sum, run) => sum + run.records, 0),
      stopped,
    };
    this.#logger.info('worker done', { runs: summary.runs.length, records: summary.records });
    return summary;
  }

  /**
   * Queues a first job for every active account of this worker without one: new accounts
   * now, accounts migrated from the lease table at their stored `next_due_at`. With a cron
   * schedule, (re)installs each account's schedule; accounts never synced also start now.
   */
  async #scheduleMissing(keys: readonly WorkAccountKey[]): Promise<number> {
    const ours = new Set(keys.map(singletonKeyOf));
    const rows = (await this.#registry.list(this.settings.job)).filter((row) => ours.has(singletonKeyOf(row)));
    const { resyncCron, resyncTimeZone } = this.settings;
    const first: Array<{ key: WorkAccountKey; startAfter: Date }> = [];
    for (const row of rows) {
      // Paused and dead accounts keep their schedule: their jobs end without a sync until resumed.
      if (resyncCron) await this.#queue.scheduleCron(row, resyncCron, resyncTimeZone);
      if (row.state !== 'active') continue;
      if (resyncCron && row.lastSyncedAt !== null) continue;
      first.push({ key: row, startAfter: new Date(Math.max(Date.now(), row.nextDueAt.getTime())) });
    }
    return this.#queue.scheduleMissing(first);
  }

  /** Runs one job: one sync of one account, then its next job or its failure. */
  async #handle(job: JobWithMetadata<AccountJobData>): Promise<void> {
    const key = { providerId: job.data.providerId, account: job.data.account };
    const target = targetOf(key);
    const attempt = job.retryCount + 1;
    const claim = await this.#registry.claim(this.settings.job, key, this.id);
    const provider = this.#providers.get(key.providerId);
    const skipReason = !claim
      ? 'not registered'
      : claim.state !== 'active'
        ? `account is ${claim.state}`
        : !provider?.accounts().includes(key.account)
          ? 'not served by this worker'
          : undefined;
    if (skipReason || !claim || !provider) {
      await this.#skip(key, target, skipReason ?? 'not served by this worker');
      return;
    }
    const previousOwner = claim.previousHolder;
    this.#emit({ type: 'claimed', target, attempt, ...(previousOwner ? { previousOwner } : {}) });
    const fields = { target, attempt, jobId: job.id };
    if (previousOwner) this.#logger.warn('account taken over', { ...fields, tookOverFrom: previousOwner });
    else if (attempt > 1) this.#logger.info('account retry claimed', { ...fields, retryLimit: job.retryLimit + 1 });
    else this.#logger.info('account claimed', fields);

    const run = this.#startSync(provider, key.account, target);
    const active: ActiveAccount = { target, run };
    this.#active.set(target, active);
    let leaseLost = false;
    const onLost = () => {
      leaseLost = true;
      this.#logger.warn('job taken from this worker (heartbeat missed); stopping the account', fields);
      run.stop('lease lost');
    };
    job.signal.addEventListener('abort', onLost, { once: true });
    try {
      const summary = await run.done;
      const result = summary.targets[0];
      const records = result?.records ?? 0;
      if (leaseLost) {
        this.#runs.push({ target, status: 'lease-lost', records });
        this.#emit({ type: 'lease-lost', target, records });
        return;
      }
      await this.#settle(job, key, result?.status ?? 'failed', records, result?.error, previousOwner);
    } finally {
      job.signal.removeEventListener('abort', onLost);
      this.#active.delete(target);
    }
  }

  #startSync(provider: KefuProvider, account: string, target: string): SyncRun {
    const { sinks, checkpoints, from, fromIsDefault, to, sync } = this.#options;
    const run = runSync({
      job: this.settings.job,
      targets: [{ provider, account }],
      concurrency: 1,
      sinks: [...sinks],
      checkpoints,
      from,
      ...(fromIsDefault ? { fromIsDefault } : {}),
      to: to ?? new Date(),
      logger: this.#logger,
      ...sync,
    });
    const subscription = run.progress$.subscribe((event) => {
      if (event.type === 'batch-committed') this.#emit({ type: 'batch-committed', target, records: event.records });
    });
    void run.done.finally(() => subscription.unsubscribe()).catch(() => undefined);
    if (this.#stopping.signal.aborted) run.stop('worker stopping');
    return run;
  }

  /**
   * Records the outcome and queues what comes next. A failure is thrown to pg-boss, which
   * retries the job after its back-off or, past the retry limit, moves it to the dead-letter queue.
   */
  async #settle(
    job: JobWithMetadata<AccountJobData>,
    key: WorkAccountKey,
    status: SyncTargetStatus,
    records: number,
    error: unknown,
    previousOwner: string | undefined,
  ): Promise<void> {
    const target = targetOf(key);
    const taken = previousOwner ? { tookOverFrom: previousOwner } : {};
    if (status === 'failed') {
      const message = messageOf(error ?? 'the sync failed');
      const attempts = job.retryCount + 1;
      const dead = job.retryCount >= job.retryLimit;
      await this.#finish(key, 'failed', records, { error: message, dead });
      this.#runs.push({ target, status, records, ...taken, error, ...(dead ? { deadLettered: true } : {}) });
      if (dead) {
        this.#logger.error('account dead-lettered', {
          target,
          attempts,
          error: message,
          queue: this.#queue.deadLetter,
        });
        this.#emit({ type: 'dead-lettered', target, attempts, error: message });
      } else {
        this.#logger.warn('sync failed; retry scheduled', {
          target,
          attempt: attempts,
          retryLimit: job.retryLimit + 1,
          error: message,
        });
        this.#emit({
          type: 'retry-scheduled',
          target,
          attempt: attempts,
          retryLimit: job.retryLimit + 1,
          error: message,
        });
      }
      throw new Error(message);
    }
    const nextDueAt = this.#nextDue(status);
    await Promise.all([
      nextDueAt ? this.#queue.schedule(key, nextDueAt) : undefined,
      this.#finish(key, status, records, nextDueAt ? { nextDueAt } : {}),
    ]);
    if (status === 'quota-exhausted') {
      this.#logger.warn('platform quota used up; account deferred until the quota resets', {
        target,
        nextDueAt: nextDueAt?.toISOString(),
      });
    }
    this.#runs.push({ target, status, records, ...taken });
    this.#emit({
      type: 'released',
      target,
      status,
      records,
      ...(nextDueAt ? { nextDueAt: nextDueAt.toISOString() } : {}),
    });
    this.#logger.info('account released', { target, status, records, nextDueAt: nextDueAt?.toISOString() });
  }

  /** When the account's next job is due; undefined when the cron schedule queues it. */
  #nextDue(status: Exclude<SyncTargetStatus, 'failed'>): Date | undefined {
    const now = Date.now();
    if (status === 'quota-exhausted') {
      return new Date(nextQuotaReset(new Date(now)).getTime() + this.settings.quotaResetMarginSeconds * 1000);
    }
    // Stopped mid-way (SIGTERM, shutdown): due at once, for the next worker.
    if (status === 'stopped') return new Date(now);
    return this.settings.resyncCron ? undefined : new Date(now + this.settings.resyncIntervalSeconds * 1000);
  }

  async #finish(
    key: WorkAccountKey,
    status: SyncOutcomeStatus,
    records: number,
    extra: { error?: string; nextDueAt?: Date; dead?: boolean },
  ): Promise<void> {
    const written = await this.#registry.finish(this.settings.job, key, this.id, { status, records, ...extra });
    if (!written)
      this.#logger.warn('account was taken over before its outcome was recorded', { target: targetOf(key) });
  }

  async #skip(key: WorkAccountKey, target: string, reason: string): Promise<void> {
    this.#logger.warn('job ended without a sync', { target, reason });
    await this.#registry.letGo(this.settings.job, key, this.id).catch(() => undefined);
    if (reason === 'not served by this worker') {
      // Another worker's config may serve it: hand it back at the resync interval instead of
      // failing it (an account removed from every config does not spin through the fleet).
      await this.#queue.schedule(key, new Date(Date.now() + this.settings.resyncIntervalSeconds * 1000));
    }
    this.#emit({ type: 'skipped', target, reason });
  }

  #emit(event: WorkerEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      this.#logger.warn('onEvent threw', { error: String(error) });
    }
  }
}
