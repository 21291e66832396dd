import type { KefuLogger } from '@kefu/core';
import type { Pool } from 'pg';
import { type Db, PgBoss, type SendOptions } from 'pg-boss';
import { inTransaction, quoted, type WorkAccountKey } from './account-registry.js';
import { toWorkersDatabaseError } from './postgres-errors.js';
import type { SyncWorkerSettings } from './worker-config.js';

/** The payload of an account's sync job. */
export interface AccountJobData extends WorkAccountKey {}

/** A job of the queue as the status view reads it. */
export interface AccountJobRow {
  key: string;
  id: string;
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  startAfter: Date;
  startedOn: Date | null;
  retryCount: number;
  retryLimit: number;
  /** The last failure's message (pg-boss stores the handler's error in `output`). */
  error: string | null;
}

/** The pg-boss queue of a job's account syncs. */
export const queueNameOf = (job: string) => `kefu-sync.${job}`;
/** Where accounts go that failed past the retry limit (the failed job's data and last error). */
export const deadLetterQueueOf = (job: string) => `kefu-sync.${job}.dead`;
/** The singleton key of an account: one job of each state per account, and one running at most. */
export const singletonKeyOf = (key: WorkAccountKey) => `${key.providerId}/${key.account}`;
/** A pg-boss schedule key (letters, digits, `_`, `-`, `.`, `/` only). */
const scheduleKeyOf = (key: WorkAccountKey) => singletonKeyOf(key).replace(/[^\w.\-/]/g, '_');

/**
 * pg-boss's statements run through the worker's own pool (its error handling, its secrets).
 * A multi-statement string answers pg's array of results as it is: pg-boss reads the rows
 * of every statement (an advisory lock's row, then the claim's), not only the last one.
 */
function poolDatabase(pool: Pool): Db {
  return { executeSql: (text, values) => pool.query(text, values) };
}

/** Only the settings the queue needs (status commands have no worker settings). */
export type SyncQueueSettings = Pick<
  SyncWorkerSettings,
  | 'job'
  | 'schema'
  | 'heartbeatSeconds'
  | 'superviseIntervalSeconds'
  | 'retryLimit'
  | 'retryDelaySeconds'
  | 'retryDelayMaxSeconds'
  | 'maxSyncSeconds'
>;

/**
 * pg-boss on the worker's PostgreSQL, with one queue per job (`stately` policy, keyed by
 * account, so an account has at most one job waiting and one running) and its dead-letter
 * queue. The job options (retries, back-off, heartbeat, expiry) travel with every job, so
 * a changed setting applies from the next job on.
 */
export class SyncQueue {
  readonly boss: PgBoss;
  readonly name: string;
  readonly deadLetter: string;
  readonly #pool: Pool;
  readonly #settings: SyncQueueSettings;
  readonly #schema: string;

  constructor(
    pool: Pool,
    settings: SyncQueueSettings,
    logger: KefuLogger,
    options: { supervise?: boolean; onError?: (error: Error) => void } = {},
  ) {
    this.#pool = pool;
    this.#settings = settings;
    this.#schema = quoted(settings.schema);
    this.name = queueNameOf(settings.job);
    this.deadLetter = deadLetterQueueOf(settings.job);
    this.boss = new PgBoss({
      db: poolDatabase(pool),
      schema: settings.schema,
      supervise: options.supervise ?? true,
      schedule: options.supervise ?? true,
      superviseIntervalSeconds: settings.superviseIntervalSeconds,
      monitorIntervalSeconds: Math.max(settings.superviseIntervalSeconds, 10),
      // Every worker is an instance; the registry row would need a pool pg-boss owns.
      registerInstance: false,
    });
    // pg-boss reports failed maintenance and polls as 'error' events; unhandled, they would end the process.
    this.boss.on('error', (error) => {
      // Typed like every database error of the workers: a hung connection reads WORKERS_DATABASE_TIMEOUT.
      logger.warn('job queue error; pg-boss retries', { error: toWorkersDatabaseError(error, 'job queue').toJSON() });
      options.onError?.(error);
    });
    this.boss.on('warning', (warning) => logger.debug('job queue warning', { warning: String(warning.message) }));
  }

  /** The options every job of this queue carries. */
  get jobOptions(): SendOptions {
    const s = this.#settings;
    return {
      retryLimit: s.retryLimit,
      retryDelay: s.retryDelaySeconds,
      retryBackoff: true,
      retryDelayMax: s.retryDelayMaxSeconds,
      heartbeatSeconds: s.heartbeatSeconds,
      expireInSeconds: s.maxSyncSeconds,
      deadLetter: this.deadLetter,
    };
  }

  /** Installs or migrates pg-boss's schema and creates the job's queues (idempotent, safe from many workers). */
  async start(): Promise<void> {
    await this.#wrap('starting the job queue', async () => {
      // Workers starting together would race on CREATE SCHEMA (pg_namespace unique violation): one at a time.
      await inTransaction(this.#pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kefu-boss-schema:${this.#settings.schema}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
      });
      await this.boss.start();
      if (!(await this.boss.getQueue(this.deadLetter))) {
        await this.boss.createQueue(this.deadLetter, { policy: 'standard', deleteAfterSeconds: 30 * 86_400 });
      }
      if (!(await this.boss.getQueue(this.name))) {
        const { retryLimit, retryDelay, retryBackoff, retryDelayMax, heartbeatSeconds, expireInSeconds } =
          this.jobOptions;
        await this.boss.createQueue(this.name, {
          policy: 'stately',
          deadLetter: this.deadLetter,
          deleteAfterSeconds: 7 * 86_400,
          ...{ retryLimit, retryDelay, retryBackoff, retryDelayMax, heartbeatSeconds, expireInSeconds },
        });
      }
    });
  }

  /** Stops polling and maintenance; jobs still running are not waited for (the worker stops them first). */
  async stop(): Promise<void> {
    await this.boss.stop({ graceful: false, close: false }).catch(() => undefined);
  }

  /**
   * Queues a sync of `key` due at `startAfter`. Answers false when the account already has
   * a waiting job (the `stately` policy keeps one), which is then left as it is.
   */
  async schedule(key: WorkAccountKey, startAfter: Date): Promise<boolean> {
    const data: AccountJobData = { providerId: key.providerId, account: key.account };
    return this.#wrap('queueing a sync', async () => {
      const id = await this.boss.send(this.name, data, {
        ...this.jobOptions,
        singletonKey: singletonKeyOf(key),
        startAfter,
      });
      return id !== null;
    });
  }

  /**
   * Queues a first sync for each of `entries` that has no job waiting or running, in one
   * transaction serialized across the fleet: a worker starting while another already runs
   * an account's first job must not queue a second one beside it (the `stately` policy
   * allows one waiting job next to a running one). Answers how many were queued.
   */
  async scheduleMissing(entries: ReadonlyArray<{ key: WorkAccountKey; startAfter: Date }>): Promise<number> {
    if (entries.length === 0) return 0;
    const { retryLimit, retryDelay, retryBackoff, retryDelayMax, heartbeatSeconds, expireInSeconds } = this.jobOptions;
    return this.#wrap('queueing first syncs', () =>
      inTransaction(this.#pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kefu-seed:${this.name}`]);
        const { rows } = await client.query<{ key: string }>(
          `SELECT DISTINCT singleton_key AS key FROM ${this.#schema}.job WHERE name = $1 AND state <= 'active'`,
          [this.name],
        );
        const open = new Set(rows.map((row) => row.key));
        const missing = entries.filter(({ key }) => !open.has(singletonKeyOf(key)));
        if (missing.length === 0) return 0;
        const ids = await this.boss.insert(
          this.name,
          missing.map(({ key, startAfter }) => ({
            data: { providerId: key.providerId, account: key.account } satisfies AccountJobData,
            singletonKey: singletonKeyOf(key),
            startAfter,
            deadLetter: this.deadLetter,
            ...{ retryLimit, retryDelay, retryBackoff, retryDelayMax, heartbeatSeconds, expireInSeconds },
          })),
          { db: { executeSql: (text, values) => client.query(text, values) }, returnId: true },
        );
        return ids?.length ?? 0;
      }),
    );
  }

  /** Resyncs of `key` on a cron schedule (pg-boss's cron pass queues them; a waiting one is not doubled). */
  async scheduleCron(key: WorkAccountKey, cron: string, tz: string): Promise<void> {
    const data: AccountJobData = { providerId: key.providerId, account: key.account };
    await this.#wrap('scheduling resyncs', () =>
      this.boss.schedule(this.name, cron, data, {
        ...this.jobOptions,
        singletonKey: singletonKeyOf(key),
        key: scheduleKeyOf(key),
        tz,
      }),
    );
  }

  /** Removes the account's cron schedule (paused or dead accounts). */
  async unscheduleCron(key: WorkAccountKey): Promise<void> {
    await this.#wrap('removing a schedule', () => this.boss.unschedule(this.name, scheduleKeyOf(key)));
  }

  /** Cancels the account's waiting jobs (pause, or retry now); a running one is left to finish. */
  async cancelWaiting(key: WorkAccountKey): Promise<number> {
    return this.#wrap('cancelling waiting jobs', async () => {
      const { rows } = await this.#pool.query<{ id: string }>(
        `SELECT id FROM ${this.#schema}.job WHERE name = $1 AND singleton_key = $2 AND state < 'active'`,
        [this.name, singletonKeyOf(key)],
      );
      if (rows.length > 0) {
        await this.boss.cancel(
          this.name,
          rows.map((row) => row.id),
        );
      }
      return rows.length;
    });
  }

  /** The singleton keys with a job waiting or running. */
  async openKeys(): Promise<Set<string>> {
    return this.#wrap('listing open jobs', async () => {
      const { rows } = await this.#pool.query<{ key: string }>(
        `SELECT DISTINCT singleton_key AS key FROM ${this.#schema}.job WHERE name = $1 AND state <= 'active'`,
        [this.name],
      );
      return new Set(rows.map((row) => row.key));
    });
  }

  /**
   * True while a job of `keys` is due now, running (by anyone) or waiting out a retry's
   * back-off (a failure, or a dead worker's job failed by its missed heartbeat): `--once`
   * waits for those, so it ends with every account synced, deferred, paused or dead-lettered.
   */
  async hasPendingWork(keys: readonly string[]): Promise<boolean> {
    return this.#wrap('looking for pending work', async () => {
      const { rowCount } = await this.#pool.query(
        `SELECT 1 FROM ${this.#schema}.job
         WHERE name = $1 AND singleton_key = ANY($2::text[])
           AND (state IN ('active', 'retry') OR (state = 'created' AND start_after <= now()))
         LIMIT 1`,
        [this.name, [...keys]],
      );
      return (rowCount ?? 0) > 0;
    });
  }

  /** The newest job of each account (waiting and running first), for `kefu worker status`. */
  async latestJobs(): Promise<Map<string, AccountJobRow>> {
    return this.#wrap('reading the job queue', async () => {
      const { rows } = await this.#pool.query<AccountJobRow>(
        `SELECT DISTINCT ON (singleton_key)
                singleton_key AS key, id, state::text AS state, start_after AS "startAfter",
                started_on AS "startedOn", retry_count AS "retryCount", retry_limit AS "retryLimit",
                output->>'message' AS error
         FROM ${this.#schema}.job
         WHERE name = $1 AND singleton_key IS NOT NULL
         ORDER BY singleton_key, (state <= 'active') DESC, created_on DESC`,
        [this.name],
      );
      return new Map(rows.map((row) => [row.key, row]));
    });
  }

  async #wrap<T>(doing: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toWorkersDatabaseError(error, `${doing} (pg-boss schema ${this.#settings.schema})`);
    }
  }
}
