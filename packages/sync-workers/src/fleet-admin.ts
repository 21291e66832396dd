import { type KefuLogger, silentLogger } from '@kefu/core';
import type { Pool } from 'pg';
import { AccountRegistry, type WorkAccountKey, type WorkAccountRow } from './account-registry.js';
import { syncWorkersError } from './errors.js';
import { type AccountJobRow, SyncQueue, singletonKeyOf } from './sync-queue.js';
import { parseSyncWorkerSettings } from './worker-config.js';

/**
 * Where an account stands: `running` (a worker syncs it), `due` (waiting for a free worker),
 * `scheduled` (next sync later), `retrying` (failed, waiting out its back-off), `dead`
 * (failed past the retry limit; in the dead-letter queue), `paused`, `idle` (no job: a
 * worker queues one when it starts).
 */
export type AccountRunState = 'running' | 'due' | 'scheduled' | 'retrying' | 'dead' | 'paused' | 'idle';

/** One account in `kefu worker status`. */
export interface AccountStatus {
  /** `provider/account`. */
  target: string;
  providerId: string;
  account: string;
  state: AccountRunState;
  /** The worker running it now. */
  heldBy: string | null;
  /** When its next job is due (waiting jobs) or started (running ones). */
  nextDueAt: string | null;
  lastSyncedAt: string | null;
  lastStatus: string | null;
  lastError: string | null;
  lastRecords: number | null;
  syncs: number;
  /** Syncs started so far, takeovers included (claims above syncs: crashes, failures, takeovers). */
  claims: number;
  /** Failed syncs since the last successful one. */
  consecutiveFailures: number;
  /** Attempts of the current job so far (1 on the first try). */
  attempt: number | null;
  /** Seconds since the last successful sync (null when never synced). */
  lagSeconds: number | null;
}

/** The whole fleet's view of a job. */
export interface FleetStatus {
  job: string;
  accounts: AccountStatus[];
  /** How many accounts are in each state. */
  byState: Partial<Record<AccountRunState, number>>;
  /** Which worker runs which accounts now. */
  workers: Record<string, string[]>;
}

/** Options of {@link FleetAdmin}. */
export interface FleetAdminOptions {
  pool: Pool;
  job: string;
  /** The account registry table (default `kefu_work_accounts`). */
  table?: string;
  /** pg-boss's schema (default `kefu_jobs`). */
  schema?: string;
  /** Job options of the jobs `retry` and `resume` queue (default: the worker defaults). */
  retryLimit?: number;
  logger?: KefuLogger;
}

function runStateOf(row: WorkAccountRow, job: AccountJobRow | undefined, now: number): AccountRunState {
  if (row.state === 'paused') return 'paused';
  if (row.state === 'dead') return 'dead';
  switch (job?.state) {
    case 'active':
      return 'running';
    case 'retry':
      return 'retrying';
    case 'created':
      return job.startAfter.getTime() > now ? 'scheduled' : 'due';
    case 'failed':
      // Failed past the limit by pg-boss (a worker died on the last attempt).
      return 'dead';
    default:
      return 'idle';
  }
}

/**
 * The operator's side of a fleet: `status` (accounts by state, last sync, last error, lag,
 * which worker holds what), `retry` (now, also a dead account), `pause` and `resume`.
 * Behind `kefu worker status|retry|pause|resume`; works while workers run.
 */
export class FleetAdmin {
  readonly #job: string;
  readonly #registry: AccountRegistry;
  readonly #queue: SyncQueue;
  #started: Promise<void> | undefined;

  constructor(options: FleetAdminOptions) {
    const settings = parseSyncWorkerSettings({
      job: options.job,
      ...(options.table ? { table: options.table } : {}),
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.retryLimit !== undefined ? { retryLimit: options.retryLimit } : {}),
    });
    this.#job = settings.job;
    this.#registry = new AccountRegistry(options.pool, settings.table);
    // No supervision from an admin command: it runs for a moment.
    this.#queue = new SyncQueue(options.pool, settings, options.logger ?? silentLogger, { supervise: false });
  }

  /** Every account of the job with its state. */
  async status(now = Date.now()): Promise<FleetStatus> {
    await this.#start();
    const [rows, jobs] = await Promise.all([this.#registry.list(this.#job), this.#queue.latestJobs()]);
    const accounts = rows.map((row): AccountStatus => {
      const job = jobs.get(singletonKeyOf(row));
      const state = runStateOf(row, job, now);
      const open = job && (job.state === 'created' || job.state === 'retry' || job.state === 'active');
      return {
        target: singletonKeyOf(row),
        providerId: row.providerId,
        account: row.account,
        state,
        heldBy: state === 'running' ? row.heldBy : null,
        nextDueAt: open ? ((job.state === 'active' ? job.startedOn : job.startAfter)?.toISOString() ?? null) : null,
        lastSyncedAt: row.lastSyncedAt?.toISOString() ?? null,
        lastStatus: row.lastStatus,
        lastError: row.lastError ?? (job?.state === 'failed' ? job.error : null),
        lastRecords: row.lastRecords,
        syncs: row.syncs,
        claims: row.claims,
        consecutiveFailures: row.consecutiveFailures,
        attempt: open ? job.retryCount + 1 : null,
        lagSeconds: row.lastSyncedAt ? Math.max(0, Math.round((now - row.lastSyncedAt.getTime()) / 1000)) : null,
      };
    });
    const byState: FleetStatus['byState'] = {};
    const workers: FleetStatus['workers'] = {};
    for (const account of accounts) {
      byState[account.state] = (byState[account.state] ?? 0) + 1;
      if (!account.heldBy) continue;
      const held = workers[account.heldBy] ?? [];
      held.push(account.target);
      workers[account.heldBy] = held;
    }
    return { job: this.#job, accounts, byState, workers };
  }

  /** Queues a sync of the account now, ending its back-off or its dead-letter state. */
  async retry(account: string): Promise<AccountStatus> {
    const key = await this.#find(account);
    await this.#registry.setState(this.#job, key, 'active');
    await this.#queue.cancelWaiting(key);
    await this.#queue.schedule(key, new Date());
    return this.#statusOf(key);
  }

  /** Stops scheduling the account (waiting jobs are cancelled; a running sync finishes). */
  async pause(account: string): Promise<AccountStatus> {
    const key = await this.#find(account);
    await this.#registry.setState(this.#job, key, 'paused');
    await this.#queue.cancelWaiting(key);
    return this.#statusOf(key);
  }

  /** Schedules a paused account again, due now. */
  async resume(account: string): Promise<AccountStatus> {
    const key = await this.#find(account);
    await this.#registry.setState(this.#job, key, 'active');
    await this.#queue.schedule(key, new Date());
    return this.#statusOf(key);
  }

  /** Stops the pg-boss instance (the pool stays the caller's). */
  async close(): Promise<void> {
    if (this.#started) await this.#queue.stop();
  }

  #start(): Promise<void> {
    this.#started ??= this.#queue.start();
    return this.#started;
  }

  async #statusOf(key: WorkAccountKey): Promise<AccountStatus> {
    const found = (await this.status()).accounts.find((a) => a.target === singletonKeyOf(key));
    if (!found) throw syncWorkersError('WORKERS_ACCOUNT_UNKNOWN', `account ${singletonKeyOf(key)} vanished`);
    return found;
  }

  /** `provider/account`, or an account id alone when one provider has it. */
  async #find(account: string): Promise<WorkAccountKey> {
    await this.#start();
    const rows = await this.#registry.list(this.#job);
    const matches = rows.filter((row) => singletonKeyOf(row) === account || row.account === account);
    if (matches.length === 1 && matches[0]) return { providerId: matches[0].providerId, account: matches[0].account };
    if (matches.length > 1) {
      throw syncWorkersError(
        'WORKERS_ACCOUNT_UNKNOWN',
        `account ${account} is served by several providers of job ${this.#job}; name one: ${matches.map(singletonKeyOf).join(', ')}`,
      );
    }
    throw syncWorkersError(
      'WORKERS_ACCOUNT_UNKNOWN',
      `job ${this.#job} has no account ${account} (${rows.length} registered; \`kefu worker status\` lists them)`,
    );
  }
}
