import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Checkpoint, KefuRecord, RecordBatch } from '@kefu/core';
import { integrationServer } from '@kefu/testkit';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseDialectName } from '../../src/index.js';

/** One database the suites run against: how to reach it and how to administer it with the bare driver. */
export interface TestDatabase {
  dialect: DatabaseDialectName;
  available: boolean;
  reason?: string;
  /** The URL a sink is given. */
  url: string;
  /** Runs SQL with the bare driver (setup, faults, cleanup), returning rows. */
  admin(statement: string): Promise<Record<string, unknown>[]>;
  /** Drops the tables of one test. */
  dropTables(tables: readonly string[]): Promise<void>;
  /** Removes temporary files. */
  dispose(): Promise<void>;
}

/** The three databases, SQLite always available; PostgreSQL/MySQL skipped locally when down (never in CI). */
export async function testDatabases(): Promise<TestDatabase[]> {
  const [postgres, mysql] = await Promise.all([integrationServer('postgres'), integrationServer('mysql')]);
  return [sqliteDatabase(), postgresDatabase(postgres), mysqlDatabase(mysql)];
}

function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-sink-db-'));
  const path = join(dir, 'records.db');
  return {
    dialect: 'sqlite',
    available: true,
    url: `sqlite://${path}`,
    async admin(statement) {
      const db = new DatabaseSync(path);
      try {
        db.exec('PRAGMA busy_timeout = 10000');
        const prepared = db.prepare(statement);
        if (prepared.columns().length > 0) return prepared.all() as Record<string, unknown>[];
        prepared.run();
        return [];
      } finally {
        db.close();
      }
    },
    async dropTables(tables) {
      for (const table of tables) await this.admin(`DROP TABLE IF EXISTS "${table}"`);
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresDatabase(server: { url: string; available: boolean; reason?: string }): TestDatabase {
  return {
    dialect: 'postgres',
    available: server.available,
    ...(server.reason ? { reason: server.reason } : {}),
    url: server.url,
    async admin(statement) {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        return (await client.query(statement)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    async dropTables(tables) {
      if (tables.length > 0) await this.admin(`DROP TABLE IF EXISTS ${tables.map((t) => `"${t}"`).join(', ')}`);
    },
    async dispose() {},
  };
}

function mysqlDatabase(server: { url: string; available: boolean; reason?: string }): TestDatabase {
  return {
    dialect: 'mysql',
    available: server.available,
    ...(server.reason ? { reason: server.reason } : {}),
    url: server.url,
    async admin(statement) {
      const connection = await createConnection({ uri: server.url });
      try {
        const [rows] = await connection.query(statement);
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
      } finally {
        await connection.end();
      }
    },
    async dropTables(tables) {
      if (tables.length > 0) await this.admin(`DROP TABLE IF EXISTS ${tables.map((t) => `\`${t}\``).join(', ')}`);
    },
    async dispose() {},
  };
}

/** A table name no parallel run uses. */
export function uniqueTableName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** The stream every test record belongs to. */
export const STREAM = { provider: 'wechat-mp', account: 'wx-account-1' } as const;

/** A valid record numbered `n`, with text, time and raw derived from `n`. */
export function makeRecord(n: number, overrides: Partial<KefuRecord> = {}): KefuRecord {
  return {
    id: `rec-${String(n).padStart(6, '0')}`,
    provider: STREAM.provider,
    account: STREAM.account,
    customer: `customer-${n % 5}`,
    direction: n % 2 === 0 ? 'inbound' : 'outbound',
    kind: 'text',
    text: `message ${n}`,
    at: new Date(Date.UTC(2026, 10, 1, 0, 0, n)).toISOString(),
    raw: { msgid: n, content: `message ${n}` },
    ...overrides,
  };
}

/** The checkpoint a synthetic stream has after `count` records. */
export function checkpointAfter(count: number): Checkpoint {
  return { provider: STREAM.provider, account: STREAM.account, position: { page: count }, skip: 0 };
}

/** A batch of records with the checkpoint after `checkpointCount`. */
export function makeBatch(
  records: readonly KefuRecord[],
  checkpointCount: number,
  key = 'job/wechat-mp/wx-account-1',
): RecordBatch {
  return { stream: { ...STREAM }, checkpointKey: key, records, checkpoint: checkpointAfter(checkpointCount) };
}

/** Numbers `from` (inclusive) to `to` (exclusive). */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, index) => from + index);
}
