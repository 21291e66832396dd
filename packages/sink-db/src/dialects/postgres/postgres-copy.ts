import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodeUtf8Lines } from '@kefu/core';
import type { CompiledQuery } from 'kysely';
import type { PoolClient } from 'pg';
import type { CopyStreamQuery } from 'pg-copy-streams';
import { RECORD_COLUMNS, type RecordRow } from '../../record-rows.js';
import { qualifiedName, quote, type TableNames } from '../../table-names.js';

// Required on the first COPY, not when the package loads (see postgres-pool.ts).
const require = createRequire(import.meta.url);

/** PostgreSQL's SQLSTATE for a unique violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * A batch's rows into PostgreSQL with `COPY … FROM STDIN`, then its checkpoint, on a client
 * inside a transaction the caller opened (so records and checkpoint still commit together).
 *
 * COPY has no `ON CONFLICT`: it goes straight into the records table inside a savepoint,
 * and when the batch holds a row already stored (a replay, an overlapping range) the
 * savepoint is rolled back and the rows are copied into a temporary staging table and
 * moved with `INSERT … SELECT … ON CONFLICT DO NOTHING` instead. After a conflict the next
 * batches go through the staging table until one inserts every row again, so a re-sync
 * over stored rows does not pay a failed COPY per batch. Measured against the one-statement
 * `unnest` insert it replaced (alternating runs, loaded machine): 1.0–1.9× the rows per
 * second into an empty table, the staging path 1.05–1.3× (docs/benchmarks.md).
 */
export class PostgresCopyWriter {
  /** True while batches meet rows already stored: they go through the staging table. */
  #staging = false;

  /** Writes `rows` and runs `checkpoint` on `client`, inside its open transaction. */
  async write(
    client: PoolClient,
    names: TableNames,
    rows: readonly RecordRow[],
    checkpoint: CompiledQuery,
  ): Promise<void> {
    const table = qualifiedName('postgres', names, names.records);
    const data = encodeUtf8Lines(rows, copyLine);
    if (!this.#staging) {
      await client.query('SAVEPOINT kefu_copy');
      try {
        await copyInto(client, table, data);
        await client.query('RELEASE SAVEPOINT kefu_copy');
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT kefu_copy');
        this.#staging = true;
      }
    }
    if (this.#staging) {
      const inserted = await this.#throughStaging(client, names, table, data);
      // Every row was new: the replayed part is behind us, copy straight in again.
      if (inserted === rows.length) this.#staging = false;
    }
    await client.query(checkpoint.sql, [...checkpoint.parameters]);
  }

  /** COPY into a per-session temporary table emptied at commit, then insert what is not stored yet. */
  async #throughStaging(client: PoolClient, names: TableNames, table: string, data: Buffer): Promise<number> {
    const staging = quote('postgres', `kefu_stage_${names.records}`);
    await client.query(
      `CREATE TEMP TABLE IF NOT EXISTS ${staging} (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
    );
    await copyInto(client, staging, data);
    const columns = RECORD_COLUMNS.join(', ');
    const result = await client.query(
      `insert into ${table} (${columns}) select ${columns} from ${staging} on conflict (provider, account, at, id) do nothing`,
    );
    // Emptied now too: a second batch in the same transaction must not see these rows.
    await client.query(`truncate ${staging}`);
    return result.rowCount ?? 0;
  }
}

async function copyInto(client: PoolClient, table: string, data: Buffer): Promise<void> {
  const sql = `copy ${table} (${RECORD_COLUMNS.join(', ')}) from stdin`;
  await pipeline(Readable.from([data]), client.query(lateAnswerSafeCopy(sql)));
}

/** What pg-copy-streams' query has beyond its typings: `pg` calls it, and it drops `connection` on an error. */
interface CopyQueryInternals {
  connection: unknown;
  handleCopyInResponse(connection: unknown): void;
}

/**
 * A COPY FROM query that ignores the server's go-ahead when it arrives after the query
 * failed. On a hung connection `pg`'s query_timeout fails the COPY, which forgets its
 * connection; when the network forwards again the server's CopyInResponse still reaches
 * it and pg-copy-streams called `sendCopyFail` on null — a TypeError thrown from the
 * socket's data handler, which ended the process (a stalled `kefu worker` in the fleet
 * faults test). The client is discarded after the timeout anyway.
 */
function lateAnswerSafeCopy(sql: string): CopyStreamQuery {
  const { from: copyFrom } = require('pg-copy-streams') as typeof import('pg-copy-streams');
  const query: CopyStreamQuery & CopyQueryInternals = copyFrom(sql) as CopyStreamQuery & CopyQueryInternals;
  const handleCopyInResponse = query.handleCopyInResponse.bind(query);
  query.handleCopyInResponse = (connection) => {
    if (query.connection !== null) handleCopyInResponse(connection);
  };
  return query;
}

/** One row in COPY's text format: tab-separated, `\N` for NULL, newline-terminated. */
function copyLine(row: RecordRow): string {
  let line = '';
  for (let index = 0; index < RECORD_COLUMNS.length; index++) {
    const value = row[RECORD_COLUMNS[index] as keyof RecordRow];
    line += (index === 0 ? '' : '\t') + (value === null ? '\\N' : copyEscape(value));
  }
  return `${line}\n`;
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Backslash, newline, carriage return and tab escaped as COPY's text format reads them. */
function copyEscape(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (char) => COPY_ESCAPES[char] as string) : value;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}
