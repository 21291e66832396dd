import { type RetryPolicy, retryWithBackoff } from '@kefu/core';
import type { Pool, PoolClient } from 'pg';
import { toWorkersDatabaseError } from './postgres-errors.js';

/** One account of a job, as the registry identifies it. */
export interface WorkAccountKey {
  /** The provider's instance id (not its platform: two WeChat instances must not share rows). */
  providerId: string;
  account: string;
}

/**
 * What an operator decided for an account: `active` accounts are scheduled, `paused` ones
 * wait for `kefu worker resume`, `dead` ones failed past the retry limit (their last job is
 * in the dead-letter queue) and wait for `kefu worker retry`.
 */
export type AccountState = 'active' | 'paused' | 'dead';

/** How a sync of an account ended, as stored in `last_status`. */
export type SyncOutcomeStatus = 'done' | 'failed' | 'stopped' | 'quota-exhausted' | 'lease-lost';

/** One row of the registry (status commands and tests). */
export interface WorkAccountRow extends WorkAccountKey {
  state: AccountState;
  /** The worker running this account now (cleared when a sync ends; left by a worker that died). */
  heldBy: string | null;
  heldSince: Date | null;
  /** When the next job of this account is due, as last scheduled. */
  nextDueAt: Date;
  lastSyncedAt: Date | null;
  lastStatus: string | null;
  lastError: string | null;
  lastRecords: number | null;
  /** Successful syncs so far. */
  syncs: number;
  /** Syncs started so far (a takeover counts). */
  claims: number;
  /** Failed syncs since the last successful one. */
  consecutiveFailures: number;
}

/** Runs `work` in a transaction on one pooled connection; a connection that broke is discarded, not reused. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Retries of one registry statement whose connection was lost (about 1.5 s at most). */
const LOST_CONNECTION_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, jitter: 1 };

/** Quotes a validated identifier (the config schema allows only `[a-z_][a-z0-9_]*`). */
export function quoted(identifier: string): string {
  return `"${identifier}"`;
}

const ROW_COLUMNS = `provider_id, account, state, held_by, held_since, next_due_at, last_synced_at,
  last_status, last_error, last_records, syncs, claims, consecutive_failures`;

function toRow(row: Record<string, unknown>): WorkAccountRow {
  return {
    providerId: String(row.provider_id),
    account: String(row.account),
    state: row.state as AccountState,
    heldBy: (row.held_by as string | null) ?? null,
    heldSince: (row.held_since as Date | null) ?? null,
    nextDueAt: row.next_due_at as Date,
    lastSyncedAt: (row.last_synced_at as Date | null) ?? null,
    lastStatus: (row.last_status as string | null) ?? null,
    lastError: (row.last_error as string | null) ?? null,
    lastRecords: (row.last_records as number | null) ?? null,
    syncs: Number(row.syncs),
    claims: Number(row.claims),
    consecutiveFailures: Number(row.consecutive_failures),
  };
}

/**
 * The accounts of each job and what happened to them: the part of the fleet's state pg-boss
 * does not keep (an operator's pause, the last successful sync, the last error, who runs
 * the account now). pg-boss owns the scheduling; this table is the account's history.
 * It is the `kefu_work_accounts` table of the earlier lease-based workers, migrated in place:
 * their rows keep `last_*`, `syncs` and `next_due_at` (the first job is due then), and the
 * lease columns are no longer written.
 */
export class AccountRegistry {
  readonly #pool: Pool;
  readonly #table: string;
  readonly #name: string;
  #ready: Promise<void> | undefined;

  /** A table named `table` reached through `pool`. */
  constructor(pool: Pool, table: string) {
    this.#pool = pool;
    this.#name = table;
    this.#table = quoted(table);
  }

  /** The table's name. */
  get name(): string {
    return this.#name;
  }

  /** The DDL (idempotent; the `ALTER`s migrate a lease-era table). */
  schemaStatements(): string[] {
    return [
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
        job text NOT NULL,
        provider_id text NOT NULL,
        account text NOT NULL,
        lease_owner text,
        lease_expires_at timestamptz,
        next_due_at timestamptz NOT NULL DEFAULT now(),
        last_synced_at timestamptz,
        last_status text,
        last_error text,
        last_records integer,
        syncs integer NOT NULL DEFAULT 0,
        claims integer NOT NULL DEFAULT 0,
        registered_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job, provider_id, account)
      )`,
      `ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'active'`,
      `ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS held_by text`,
      `ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS held_since timestamptz`,
      `ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS consecutive_failures integer NOT NULL DEFAULT 0`,
      `ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS state_changed_at timestamptz`,
      // A lease-era row whose last sync failed keeps its count of one failure.
      `UPDATE ${this.#table} SET consecutive_failures = 1
         WHERE last_status = 'failed' AND consecutive_failures = 0 AND state_changed_at IS NULL`,
      `UPDATE ${this.#table} SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL`,
    ];
  }

  /** Creates or migrates the table; many workers may call it at once (serialized by an advisory lock). */
  migrate(): Promise<void> {
    this.#ready ??= this.#query('creating the account registry', async () => {
      await inTransaction(this.#pool, async (client) => {
        // Concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type: take a lock first.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kefu-migrate:${this.#name}`]);
        for (const statement of this.schemaStatements()) await client.query(statement);
      });
    }).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** Adds accounts to the job (existing rows stay as they are); returns how many were new. */
  async register(job: string, accounts: readonly WorkAccountKey[]): Promise<number> {
    await this.migrate();
    return this.#query('registering accounts', async () => {
      const result = await this.#pool.query(
        `INSERT INTO ${this.#table} (job, provider_id, account)
         SELECT $1, provider_id, account FROM unnest($2::text[], $3::text[]) AS a(provider_id, account)
         ON CONFLICT DO NOTHING`,
        [job, accounts.map((a) => a.providerId), accounts.map((a) => a.account)],
      );
      return result.rowCount ?? 0;
    });
  }

  /**
   * Marks the account as run by `worker`; returns the account's state and the worker that
   * held it before, when one had died holding it (a takeover).
   */
  async claim(
    job: string,
    key: WorkAccountKey,
    worker: string,
  ): Promise<{ state: AccountState; previousHolder: string | undefined } | undefined> {
    return this.#query('recording a claim', async () => {
      const result = await this.#pool.query<{ state: AccountState; previous: string | null }>(
        `UPDATE ${this.#table} AS w
         SET held_by = $4, held_since = now(), claims = w.claims + 1
         FROM (SELECT held_by FROM ${this.#table} WHERE job = $1 AND provider_id = $2 AND account = $3 FOR UPDATE) AS old
         WHERE w.job = $1 AND w.provider_id = $2 AND w.account = $3
         RETURNING w.state, old.held_by AS previous`,
        [job, key.providerId, key.account, worker],
      );
      const row = result.rows[0];
      if (!row) return undefined;
      const previous = row.previous && row.previous !== worker ? row.previous : undefined;
      return { state: row.state, previousHolder: previous };
    });
  }

  /**
   * Records how a sync ended and when the account is due next. Only the holder writes
   * (false when another worker runs the account by now). `dead` marks it dead-lettered.
   */
  async finish(
    job: string,
    key: WorkAccountKey,
    worker: string,
    outcome: { status: SyncOutcomeStatus; records: number; error?: string; nextDueAt?: Date; dead?: boolean },
  ): Promise<boolean> {
    return this.#query('recording a sync outcome', async () => {
      const result = await this.#pool.query(
        `UPDATE ${this.#table}
         SET held_by = NULL, held_since = NULL,
             last_status = $5, last_error = $6, last_records = $7,
             last_synced_at = CASE WHEN $5 = 'done' THEN now() ELSE last_synced_at END,
             syncs = syncs + CASE WHEN $5 = 'done' THEN 1 ELSE 0 END,
             consecutive_failures = CASE WHEN $5 = 'failed' THEN consecutive_failures + 1
                                         WHEN $5 = 'done' THEN 0 ELSE consecutive_failures END,
             next_due_at = COALESCE($8, next_due_at),
             state = CASE WHEN $9 THEN 'dead' ELSE state END,
             state_changed_at = CASE WHEN $9 THEN now() ELSE state_changed_at END
         WHERE job = $1 AND provider_id = $2 AND account = $3 AND held_by = $4`,
        [
          job,
          key.providerId,
          key.account,
          worker,
          outcome.status,
          outcome.error ?? null,
          outcome.records,
          outcome.nextDueAt ?? null,
          outcome.dead ?? false,
        ],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  /** Clears `held_by` without recording an outcome (a job that ended without a sync). */
  async letGo(job: string, key: WorkAccountKey, worker: string): Promise<void> {
    await this.#query('releasing an account', () =>
      this.#pool.query(
        `UPDATE ${this.#table} SET held_by = NULL, held_since = NULL
         WHERE job = $1 AND provider_id = $2 AND account = $3 AND held_by = $4`,
        [job, key.providerId, key.account, worker],
      ),
    );
  }

  /** Records the next due time of an account (a job was scheduled). */
  async setNextDue(job: string, key: WorkAccountKey, at: Date): Promise<void> {
    await this.#query('recording the next due time', () =>
      this.#pool.query(
        `UPDATE ${this.#table} SET next_due_at = $4 WHERE job = $1 AND provider_id = $2 AND account = $3`,
        [job, key.providerId, key.account, at],
      ),
    );
  }

  /** Sets an account's state (pause, resume, retry); false when the account is not registered. */
  async setState(job: string, key: WorkAccountKey, state: AccountState): Promise<boolean> {
    await this.migrate();
    return this.#query('changing an account state', async () => {
      const result = await this.#pool.query(
        `UPDATE ${this.#table}
         SET state = $4, state_changed_at = now(),
             consecutive_failures = CASE WHEN $4 = 'active' THEN 0 ELSE consecutive_failures END
         WHERE job = $1 AND provider_id = $2 AND account = $3`,
        [job, key.providerId, key.account, state],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  /** Every row of `job`, ordered by provider and account. */
  async list(job: string): Promise<WorkAccountRow[]> {
    await this.migrate();
    return this.#query('listing accounts', async () => {
      const result = await this.#pool.query(
        `SELECT ${ROW_COLUMNS} FROM ${this.#table} WHERE job = $1 ORDER BY provider_id, account`,
        [job],
      );
      return result.rows.map(toRow);
    });
  }

  /**
   * Runs one statement, retrying a lost connection on a new one a few times: every
   * statement here is safe to repeat.
   */
  async #query<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return retryWithBackoff(
      async () => {
        try {
          return await run();
        } catch (error) {
          throw toWorkersDatabaseError(error, `${doing} (${this.#name})`);
        }
      },
      { policy: LOST_CONNECTION_RETRY },
    );
  }
}
