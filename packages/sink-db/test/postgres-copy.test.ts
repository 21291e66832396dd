import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresCopyWriter } from '../src/dialects/postgres/postgres-copy.js';
import { DatabaseSink } from '../src/index.js';
import { toRecordRow } from '../src/record-rows.js';
import { makeRecord, range, testDatabases, uniqueTableName } from './support/databases.js';

// The COPY path of the PostgreSQL sink: straight into the table, the staging table after a
// conflict, and back to straight COPY once a batch holds only new rows.
const postgres = (await testDatabases()).find((database) => database.dialect === 'postgres');
afterAll(async () => {
  await postgres?.dispose();
});

describe.skipIf(!postgres?.available)('PostgresCopyWriter', () => {
  it('given a replayed batch, when written, then it goes through the staging table, stores nothing twice, and the next new batch is copied straight in again', async () => {
    const url = postgres?.url as string;
    const table = uniqueTableName('copy');
    const names = { records: table, checkpoints: `${table}_cp`, migrations: `${table}_migrations` };
    const sink = new DatabaseSink({ url, table, checkpointTable: names.checkpoints });
    await sink.migrate();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const client = await pool.connect();
    const statements: string[] = [];
    const query = client.query.bind(client);
    // Records every statement text the writer sends (COPY streams included).
    client.query = ((config: unknown, ...rest: unknown[]) => {
      statements.push(typeof config === 'string' ? config : String((config as { text?: string }).text));
      return (query as (...args: unknown[]) => unknown)(config, ...rest);
    }) as typeof client.query;
    const writer = new PostgresCopyWriter();
    const rows = (numbers: number[]) => numbers.map((n) => toRecordRow(makeRecord(n), 'postgres'));
    const checkpoint = (n: number) =>
      CompiledQuery.raw(
        `insert into "${names.checkpoints}" (checkpoint_key, value, updated_at) values ($1, $2, now()) on conflict (checkpoint_key) do update set value = excluded.value`,
        ['k', String(n)],
      );
    const writeBatch = async (numbers: number[]) => {
      statements.length = 0;
      await client.query('BEGIN');
      await writer.write(client, names, rows(numbers), checkpoint(numbers.at(-1) ?? 0));
      await client.query('COMMIT');
      return statements.some((text) => text.includes('kefu_stage_')) ? 'staging' : 'direct';
    };
    try {
      expect(await writeBatch(range(0, 10))).toBe('direct');
      // A replay with new rows after the stored ones: the COPY fails, the staging path keeps the new ones.
      expect(await writeBatch(range(5, 15))).toBe('staging');
      // Still staging after a conflict; this batch is all new, so the next one goes straight in.
      expect(await writeBatch(range(15, 20))).toBe('staging');
      expect(await writeBatch(range(20, 25))).toBe('direct');
      const stored = await client.query(`select id from "${table}" order by at, id`);
      expect(stored.rows.map((row: { id: string }) => row.id)).toEqual(range(0, 25).map((n) => makeRecord(n).id));
      const saved = await client.query(`select value from "${names.checkpoints}" where checkpoint_key = 'k'`);
      expect(saved.rows[0]?.value).toBe('24');
    } finally {
      client.release();
      await pool.end();
      await sink.close();
      await postgres?.dropTables([table, names.checkpoints, names.migrations]);
    }
  });
});
