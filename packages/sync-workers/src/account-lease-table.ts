import { type RetryPolicy, retryWithBackoff } from '@kefu/core';
import type { Pool, PoolClient } from 'pg';
import { toWorkersDatabaseError } from './postgres-errors.js';

/** One account of a job, as the work table identifies it. */
export interface WorkAccountKey {
  /** The provider's instance id (not its platform: two WeChat instances must not share rows). */
  providerId: string;
  account: string;
}

/** An account this worker now holds a lease on. */
export interface ClaimedAccount extends WorkAccountKey {
  /** The owner whose lease had expired, when this claim takes over a dead worker's account. */
  previousOwner?: string;
}

/** How a leased sync ended, as stored in `last_status`. */
export type LeaseOutcome = 'done' | 'failed' | 'stopped' | 'quota-exhausted';

/** One row of the work table (for status commands and tests). */
export interface WorkAccountRow extends WorkAccountKey {
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  nextDueAt: Date;
  lastSyncedAt: Date | null;
  lastStatus: string | null;
  lastError: string | null;
  lastRecords: number | null;
  /** Successful syncs so far. */
  syncs: number;
  /** Leases taken so far (a takeover counts). */
  claims: number;
}

/** Runs `work` in a transaction on one pooled connection. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Retries of one lease-table statement whose connection was lost (about 1.5 s at most). */
const LOST_CONNECTION_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, jitter: 1 };

/** Quotes a validated identifier (the config schema allows only `[a-z_][a-z0-9_]*`). */
function quoted(identifier: string): string {
  return `"${identifier}"`;
}

/**
 * The shared list of accounts per job, with leases: workers claim due accounts with
 * `SELECT … FOR UPDATE SKIP LOCKED` (so two workers never wait on or take the same row),
 * renew their leases while syncing, and release them with the outcome. A lease that is
 * not renewed expires, and the account is claimable again: that is how a dead worker's
 * accounts move on. All times are the database server's `now()`, so worker clocks may drift.
 */
export class AccountLeaseTable {
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

  /** The DDL of the work table (idempotent statements). */
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
      `CREATE INDEX IF NOT EXISTS ${quoted(`${this.#name}_due`)} ON ${this.#table} (job, next_due_at)`,
    ];
  }

  /** Creates the table when missing; many workers may call it at once (serialized by an advisory lock). */
  migrate(): Promise<void> {
    this.#ready ??= this.#query('creating the work table', async () => {
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

  /** Adds accounts to the job (existing rows, their leases and schedule stay as they are). */
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
   * Leases up to `limit` due accounts of `providerIds` whose lease is free or expired,
   * oldest due first. Rows locked by another claimer are skipped, not waited for.
   */
  async claim(
    job: string,
    owner: string,
    providerIds: readonly string[],
    limit: number,
    leaseSeconds: number,
  ): Promise<ClaimedAccount[]> {
    await this.migrate();
    return this.#query('claiming accounts', async () => {
      const result = await this.#pool.query<{ provider_id: string; account: string; previous_owner: string | null }>(
        `WITH due AS (
           SELECT job, provider_id, account, lease_owner AS previous_owner
           FROM ${this.#table}
           WHERE job = $1 AND provider_id = ANY($2::text[])
             AND next_due_at <= now()
             AND (lease_expires_at IS NULL OR lease_expires_at <= now())
           ORDER BY next_due_at, provider_id, account
           LIMIT $3
           FOR UPDATE SKIP LOCKED
         )
         UPDATE ${this.#table} AS w
         SET lease_owner = $4, lease_expires_at = now() + make_interval(secs => $5), claims = w.claims + 1
         FROM due
         WHERE w.job = due.job AND w.provider_id = due.provider_id AND w.account = due.account
         RETURNING w.provider_id, w.account, due.previous_owner`,
        [job, [...providerIds], limit, owner, leaseSeconds],
      );
      return result.rows.map((row) => ({
        providerId: row.provider_id,
        account: row.account,
        ...(row.previous_owner ? { previousOwner: row.previous_owner } : {}),
      }));
    });
  }

  /** Extends every lease `owner` holds in `job`; returns the accounts still held (a missing one was lost). */
  async renew(job: string, owner: string, leaseSeconds: number): Promise<WorkAccountKey[]> {
    return this.#query('renewing leases', async () => {
      const result = await this.#pool.query<{ provider_id: string; account: string }>(
        `UPDATE ${this.#table} SET lease_expires_at = now() + make_interval(secs => $3)
         WHERE job = $1 AND lease_owner = $2
         RETURNING provider_id, account`,
        [job, owner, leaseSeconds],
      );
      return result.rows.map((row) => ({ providerId: row.provider_id, account: row.account }));
    });
  }

  /**
   * Gives the lease back with the outcome and schedules the next sync `dueInSeconds` from
   * now. Only the current owner can release: false when the lease was lost meanwhile.
   */
  async release(
    job: string,
    owner: string,
    key: WorkAccountKey,
    outcome: { status: LeaseOutcome; records: number; error?: string; dueInSeconds: number },
  ): Promise<boolean> {
    return this.#query('releasing a lease', async () => {
      const result = await this.#pool.query(
        `UPDATE ${this.#table}
         SET lease_owner = NULL, lease_expires_at = NULL,
             last_status = $5, last_error = $6, last_records = $7,
             last_synced_at = CASE WHEN $5 = 'done' THEN now() ELSE last_synced_at END,
             syncs = syncs + CASE WHEN $5 = 'done' THEN 1 ELSE 0 END,
             next_due_at = now() + make_interval(secs => $8)
         WHERE job = $1 AND provider_id = $2 AND account = $3 AND lease_owner = $4`,
        [
          job,
          key.providerId,
          key.account,
          owner,
          outcome.status,
          outcome.error ?? null,
          outcome.records,
          outcome.dueInSeconds,
        ],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  /** True while some account of `providerIds` is due now or leased (by anyone): `--once` waits for those. */
  async hasPendingWork(job: string, providerIds: readonly string[]): Promise<boolean> {
    return this.#query('looking for pending work', async () => {
      const result = await this.#pool.query(
        `SELECT 1 FROM ${this.#table}
         WHERE job = $1 AND provider_id = ANY($2::text[])
           AND (next_due_at <= now() OR lease_expires_at > now())
         LIMIT 1`,
        [job, [...providerIds]],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  /** Every row of `job`, ordered by provider and account. */
  async list(job: string): Promise<WorkAccountRow[]> {
    await this.migrate();
    return this.#query('listing accounts', async () => {
      const result = await this.#pool.query(
        `SELECT provider_id, account, lease_owner, lease_expires_at, next_due_at, last_synced_at,
                last_status, last_error, last_records, syncs, claims
         FROM ${this.#table} WHERE job = $1 ORDER BY provider_id, account`,
        [job],
      );
      return result.rows.map((row) => ({
        providerId: row.provider_id,
        account: row.account,
        leaseOwner: row.lease_owner,
        leaseExpiresAt: row.lease_expires_at,
        nextDueAt: row.next_due_at,
        lastSyncedAt: row.last_synced_at,
        lastStatus: row.last_status,
        lastError: row.last_error,
        lastRecords: row.last_records,
        syncs: row.syncs,
        claims: row.claims,
      }));
    });
  }

  /**
   * Runs one statement, retrying a lost connection (restart, failover, a terminated
   * backend) on a new one a few times: every statement here is safe to repeat (a claim
   * repeated after a lost answer leaves a lease that expires; a release repeated reports
   * the lease as lost).
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
