import { AsyncLocalStorage } from 'node:async_hooks';
import { coreError, KeyedLock, registerSecret, type StoredToken, TokenCipher, type TokenStore } from '@kefu/core';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { syncWorkersError } from './errors.js';
import { toWorkersDatabaseError } from './postgres-errors.js';
import { parseTableName } from './table-names.js';

/** An access token and when it stops being valid (ms since epoch): core's `StoredToken`. */
export type SharedToken = StoredToken;

/** Options of {@link PostgresTokenStore}. */
export interface PostgresTokenStoreOptions {
  /** The pool the workers share (see {@link openWorkerPool}). */
  pool: Pool;
  /** The token table (default `kefu_wechat_tokens`). */
  table?: string;
  /**
   * Encrypts tokens at rest (AES-256-GCM; `TokenCipher.fromEnv(process.env)` reads
   * KEFU_TOKEN_KEY and KEFU_TOKEN_OLD_KEYS). Plaintext rows written before are read and
   * rewritten encrypted, rows of an old key re-encrypted with the current one. Without it
   * tokens are stored as they are, and an encrypted row is KEFU_TOKEN_KEY_MISSING.
   */
  cipher?: TokenCipher;
}

const TokenRowSchema = z.object({ token: z.string().min(1), expires_at: z.coerce.number().int() });

/** Per app id: the store whose lock the current async context holds (makes withLock re-entrant). */
const heldLocks = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * A WeChat access-token store in PostgreSQL, shared by every worker of every host, so
 * workers never invalidate each other's tokens (refreshing `/cgi-bin/token` invalidates
 * the previous one, API-NOTES). A core `TokenStore` (`get`/`set`/compare-and-delete
 * `invalidate`/`withLock`): bind it under `TOKENS.TokenStore`. `withLock` holds a transaction-scoped advisory
 * lock per app id, so one refresher in the whole fleet calls the token endpoint; a
 * worker that dies mid-refresh loses its connection and with it the lock.
 * Tokens are secrets: each one read or written is registered for redaction; with a
 * `cipher` the table holds them encrypted (`kefu worker` always gives one).
 */
export class PostgresTokenStore implements TokenStore {
  readonly #pool: Pool;
  readonly #table: string;
  readonly #name: string;
  readonly #cipher: TokenCipher | undefined;
  // In-process queue first, so one process never holds several pooled connections waiting on one lock.
  readonly #serialized = new KeyedLock();
  #ready: Promise<void> | undefined;

  /** A store on `options.pool`; creates its table on first use. */
  constructor(options: PostgresTokenStoreOptions) {
    this.#pool = options.pool;
    this.#name = parseTableName('table', options.table ?? 'kefu_wechat_tokens');
    this.#table = `"${this.#name}"`;
    this.#cipher = options.cipher;
  }

  /** Creates the token table when missing (safe from many processes at once). */
  migrate(): Promise<void> {
    this.#ready ??= this.#query('creating the token table', () =>
      this.#inTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kefu-migrate:${this.#name}`]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.#table} (
             app_id text PRIMARY KEY,
             token text NOT NULL,
             expires_at bigint NOT NULL,
             updated_at timestamptz NOT NULL DEFAULT now()
           )`,
        );
      }),
    ).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** The stored token of `appId`, if any (expired ones too: the token manager checks). */
  async get(appId: string): Promise<SharedToken | undefined> {
    const row = await this.#row(appId);
    if (row === undefined) return undefined;
    const { token, stale } = this.#decrypt(appId, row.token);
    if (stale && this.#cipher) {
      // Plaintext from before encryption, or an old key: rewrite it, unless another process already did.
      await this.#query(`encrypting the token of ${appId}`, () =>
        this.#pool.query(`UPDATE ${this.#table} SET token = $3 WHERE app_id = $1 AND token = $2`, [
          appId,
          row.token,
          this.#encrypt(appId, token),
        ]),
      );
    }
    return { token, expiresAt: row.expires_at };
  }

  /** Stores the token of `appId`, replacing the previous one. */
  async set(appId: string, token: SharedToken): Promise<void> {
    registerSecret(token.token);
    await this.migrate();
    await this.#query(`storing the token of ${appId}`, () =>
      this.#pool.query(
        `INSERT INTO ${this.#table} (app_id, token, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (app_id) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at, updated_at = now()`,
        [appId, this.#encrypt(appId, token.token), Math.trunc(token.expiresAt)],
      ),
    );
  }

  /** Deletes the token of `appId` only if it is still `token` (compare-and-delete); true when it did. */
  async invalidate(appId: string, token: string): Promise<boolean> {
    const row = await this.#row(appId);
    // Encrypted values differ at every write: compare the decrypted token, delete the exact stored value.
    if (row === undefined || this.#decrypt(appId, row.token).token !== token) return false;
    const result = await this.#query(`invalidating the token of ${appId}`, () =>
      this.#pool.query(`DELETE FROM ${this.#table} WHERE app_id = $1 AND token = $2`, [appId, row.token]),
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** The row of `appId` as stored (token possibly encrypted), validated. */
  async #row(appId: string): Promise<{ token: string; expires_at: number } | undefined> {
    await this.migrate();
    const result = await this.#query(`reading the token of ${appId}`, () =>
      this.#pool.query(`SELECT token, expires_at FROM ${this.#table} WHERE app_id = $1`, [appId]),
    );
    const row = result.rows[0];
    if (row === undefined) return undefined;
    const parsed = TokenRowSchema.safeParse(row);
    if (!parsed.success) {
      throw syncWorkersError('WORKERS_TOKEN_INVALID', `the token row of ${appId} in ${this.#name} is malformed`);
    }
    return parsed.data;
  }

  #encrypt(appId: string, token: string): string {
    return this.#cipher ? this.#cipher.encrypt(appId, token) : token;
  }

  #decrypt(appId: string, stored: string): { token: string; stale: boolean } {
    if (this.#cipher) return this.#cipher.decrypt(appId, stored);
    if (TokenCipher.isEncrypted(stored)) {
      throw coreError(
        'KEFU_TOKEN_KEY_MISSING',
        `the token of ${appId} in ${this.#name} is stored encrypted and this store has no key: set KEFU_TOKEN_KEY`,
        { details: { appId, table: this.#name } },
      );
    }
    registerSecret(stored);
    return { token: stored, stale: false };
  }

  /** Runs `fn` holding the fleet-wide refresh lock of `appId` (re-entrant within one async context). */
  async withLock<T>(appId: string, fn: () => Promise<T>): Promise<T> {
    const held = heldLocks.getStore();
    if (held?.has(appId)) return fn();
    await this.migrate();
    // The work's own failure (say, the token endpoint refusing) must reach the caller as
    // it is, not disguised as a database error: carry it past #query and rethrow it.
    const outcome = await this.#serialized.run(appId, () =>
      this.#query(`locking the token of ${appId}`, () =>
        this.#inTransaction(async (client) => {
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kefu-token:${this.#name}:${appId}`]);
          try {
            return { ok: true as const, value: await heldLocks.run(new Set([...(held ?? []), appId]), fn) };
          } catch (error) {
            return { ok: false as const, error };
          }
        }),
      ),
    );
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Runs `work` in a transaction on one pooled client; a client whose connection broke is discarded. */
  async #inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
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

  async #query<T>(doing: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toWorkersDatabaseError(error, `${doing} (${this.#name})`);
    }
  }
}
