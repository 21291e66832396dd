import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerSqliteDialect } from '../src/worker-sqlite-dialect.js';

describe.each(['worker', 'main'] as const)('WorkerSqliteDialect, thread %s', (thread) => {
  let db: Kysely<Record<string, never>> | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await db?.destroy();
    db = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function open(setup: string[] = []) {
    dir = mkdtempSync(join(tmpdir(), 'kefu-worker-sqlite-'));
    db = new Kysely({ dialect: new WorkerSqliteDialect({ path: join(dir, 'test.db'), setup, thread }) });
    return db;
  }

  it('given a long statement, when it runs, then the event loop serves timers meanwhile on a worker, after it on the main thread', async () => {
    const database = open();
    // Counting to 3 million in SQL takes far longer than 5 ms; node:sqlite on the main thread would block the timer.
    const events: string[] = [];
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        events.push('timer');
        resolve();
      }, 5),
    );
    const query = sql<{ n: number }>`
      WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) AS n FROM c
    `
      .execute(database)
      .then((result) => {
        events.push('query');
        return result.rows[0]?.n;
      });
    await Promise.all([timer, query]);
    expect(await query).toBe(3_000_000);
    // The trade-off of `thread: 'main'`: no second isolate, but the loop waits for SQLite.
    expect(events).toEqual(thread === 'worker' ? ['timer', 'query'] : ['query', 'timer']);
  });

  it('given statements and a transaction, when run, then results, affected rows and order are those of SQLite', async () => {
    const database = open(['PRAGMA journal_mode = WAL']);
    await sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)`.execute(database);
    const inserted =
      await sql`INSERT INTO t (v, b) VALUES (${'a'}, ${new Uint8Array([1, 2])}), (${'b'}, ${null})`.execute(database);
    expect(inserted.numAffectedRows).toBe(2n);
    await database.transaction().execute(async (trx) => {
      await sql`UPDATE t SET v = 'c' WHERE id = 2`.execute(trx);
    });
    const rows = await sql<{ id: number; v: string; b: Uint8Array | null }>`SELECT * FROM t ORDER BY id`.execute(
      database,
    );
    expect(rows.rows).toEqual([
      { id: 1, v: 'a', b: new Uint8Array([1, 2]) },
      { id: 2, v: 'c', b: null },
    ]);
    const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(database);
    expect(mode.rows[0]?.journal_mode).toBe('wal');
  });

  it('given a failing statement, when run, then the error keeps SQLite’s code and the connection goes on', async () => {
    const database = open();
    await sql`CREATE TABLE u (id INTEGER PRIMARY KEY)`.execute(database);
    await sql`INSERT INTO u (id) VALUES (1)`.execute(database);
    const error = (await sql`INSERT INTO u (id) VALUES (1)`.execute(database).catch((e: unknown) => e)) as {
      message: string;
      errcode?: number;
    };
    expect(error.message).toMatch(/UNIQUE/);
    expect(error.errcode).toBe(1555); // SQLITE_CONSTRAINT_PRIMARYKEY
    const count = await sql<{ n: number }>`SELECT count(*) AS n FROM u`.execute(database);
    expect(count.rows[0]?.n).toBe(1);
  });

  it('given a path that cannot be opened, when first used, then the open error is reported', async () => {
    db = new Kysely({ dialect: new WorkerSqliteDialect({ path: '/nonexistent-dir/kefu/test.db', thread }) });
    await expect(sql`SELECT 1`.execute(db)).rejects.toThrow(/unable to open|no such file|cannot open/i);
    db = undefined;
  });

  it('given a process that never destroys its Kysely, when its work is done, then it still exits', () => {
    // An idle connection must not keep the process alive (the timeout fails the test if it does).
    const program = `
      import { Kysely, sql } from 'kysely';
      import { WorkerSqliteDialect } from '@kefu/sink-db';
      const db = new Kysely({ dialect: new WorkerSqliteDialect({ path: ':memory:', thread: '${thread}' }) });
      const { rows } = await sql\`SELECT 41 + 1 AS answer\`.execute(db);
      console.log(rows[0].answer);
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', program], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(output.trim()).toBe('42');
  });
});

describe('@kefu/sink-db loading', () => {
  it('given a process that only imports the package, when loaded, then the PostgreSQL and MySQL drivers are not', () => {
    // They are required when a PostgreSQL or MySQL sink opens its pool: a SQLite sync does not keep their code.
    const program = `
      import { createRequire } from 'node:module';
      await import('@kefu/sink-db');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(['/pg/', '/mysql2/', '/pg-copy-streams/'].filter((d) => loaded.some((f) => f.includes(d)))));
      const { plugin } = await import('@kefu/sink-db');
      console.log(plugin.name);
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', program], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(output.trim().split('\n')).toEqual(['[]', '@kefu/sink-db']);
  });
});
