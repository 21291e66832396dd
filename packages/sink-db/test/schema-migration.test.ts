import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sinkDialect } from '../src/dialects/index.js';
import { DatabaseSink, LATEST_SCHEMA_VERSION, type TableNames } from '../src/index.js';
import { encodeTimestamp, toRecordRow } from '../src/record-rows.js';
import {
  checkpointAfter,
  makeBatch,
  makeRecord,
  range,
  type TestDatabase,
  testDatabases,
  uniqueTableName,
} from './support/databases.js';

const databases = await testDatabases();
afterAll(async () => {
  for (const database of databases) await database.dispose();
});

/** `'text'` as a SQL literal (test values hold no backslashes). */
function literal(value: string | null): string {
  return value === null ? 'NULL' : `'${value.replaceAll("'", "''")}'`;
}

/** Builds schema version 1 as a deployed database has it, with rows written by the old sink. */
async function createVersion1(database: TestDatabase, names: TableNames, rowNumbers: number[]): Promise<void> {
  const dialect = sinkDialect(database.dialect);
  const q = (name: string) => (database.dialect === 'mysql' ? `\`${name}\`` : `"${name}"`);
  const version1 = dialect.migrations.find((migration) => migration.version === 1);
  if (!version1) throw new Error('no version 1');
  await database.admin(dialect.migrationsTableStatement(names));
  for (const statement of version1.statements(names)) await database.admin(statement);
  const now = encodeTimestamp(new Date(), database.dialect);
  await database.admin(
    `INSERT INTO ${q(names.migrations)} (version, name, applied_at) VALUES (1, 'records-and-checkpoints', '${now}')`,
  );
  const rows = rowNumbers.map((n) => toRecordRow(makeRecord(n), database.dialect));
  const columns = Object.keys(rows[0] ?? {});
  const values = rows.map((row) => `(${Object.values(row).map(literal).join(', ')})`).join(', ');
  await database.admin(`INSERT INTO ${q(names.records)} (${columns.join(', ')}) VALUES ${values}`);
  await database.admin(
    `INSERT INTO ${q(names.checkpoints)} (checkpoint_key, value, updated_at) VALUES ('job/wechat-mp/wx-account-1', ${literal(JSON.stringify(checkpointAfter(rowNumbers.length)))}, '${now}')`,
  );
}

/** The records table's primary-key columns, in key order. */
async function primaryKey(database: TestDatabase, table: string): Promise<string[]> {
  if (database.dialect === 'sqlite') {
    const rows = await database.admin(`SELECT name, pk FROM pragma_table_info('${table}') WHERE pk > 0 ORDER BY pk`);
    return rows.map((row) => String(row.name));
  }
  if (database.dialect === 'postgres') {
    const rows = await database.admin(
      `SELECT a.attname AS name FROM pg_index i JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       WHERE i.indrelid = '"${table}"'::regclass AND i.indisprimary ORDER BY k.n`,
    );
    return rows.map((row) => String(row.name));
  }
  const rows = await database.admin(
    `SELECT column_name AS name FROM information_schema.statistics WHERE table_schema = database() AND table_name = '${table}' AND index_name = 'PRIMARY' ORDER BY seq_in_index`,
  );
  return rows.map((row) => String(row.name));
}

for (const database of databases) {
  describe.skipIf(!database.available)(`schema migration on ${database.dialect}`, () => {
    const sinks: DatabaseSink[] = [];
    const tables: string[] = [];

    function names(): TableNames {
      const records = uniqueTableName('mig');
      const result = {
        schema: undefined,
        records,
        checkpoints: `${records}_cp`,
        migrations: `${records}_migrations`,
      };
      tables.push(result.records, result.checkpoints, result.migrations, `${records}_v2`);
      return result;
    }

    function open(tableNames: TableNames): DatabaseSink {
      const sink = new DatabaseSink({
        url: database.url,
        table: tableNames.records,
        checkpointTable: tableNames.checkpoints,
      });
      sinks.push(sink);
      return sink;
    }

    async function versions(tableNames: TableNames): Promise<number[]> {
      const q = database.dialect === 'mysql' ? '`' : '"';
      const rows = await database.admin(`SELECT version FROM ${q}${tableNames.migrations}${q} ORDER BY version`);
      return rows.map((row) => Number(row.version));
    }

    afterEach(async () => {
      await Promise.all(sinks.splice(0).map((sink) => sink.close()));
      await database.dropTables([...new Set(tables.splice(0))]);
    });

    it('given a version 1 table with rows, when the new sink opens it, then the rows are all there under the time-ordered key and new rows insert once', async () => {
      const tableNames = names();
      // Old rows in id order, which is not time order for the shuffled numbers.
      const old = [7, 3, 11, 0, 5, 1, 9, 2, 8, 4, 10, 6];
      await createVersion1(database, tableNames, old);
      expect(await primaryKey(database, tableNames.records)).toEqual(['provider', 'account', 'id']);

      const sink = open(tableNames);
      await sink.migrate();
      expect(await versions(tableNames)).toEqual([1, LATEST_SCHEMA_VERSION]);
      expect(await primaryKey(database, tableNames.records)).toEqual(['provider', 'account', 'at', 'id']);
      expect(await sink.queryRecords()).toEqual(range(0, 12).map((n) => makeRecord(n)));
      expect(await sink.load('job/wechat-mp/wx-account-1')).toEqual(checkpointAfter(12));

      // Overlapping with the migrated rows, then replayed: each record once.
      const next = makeBatch(
        range(8, 20).map((n) => makeRecord(n)),
        20,
      );
      await sink.write(next);
      await sink.write(next);
      expect(await sink.countRecords()).toBe(20);
      expect((await sink.queryRecords()).map((record) => record.id)).toEqual(range(0, 20).map((n) => makeRecord(n).id));
      expect(await sink.countRecords({ customer: 'customer-1' })).toBe(4);
    });

    it('given a migrated table, when sinks open it again or the upgrade step reruns, then nothing changes', async () => {
      const tableNames = names();
      await createVersion1(database, tableNames, range(0, 6));
      await open(tableNames).migrate();
      await open(tableNames).migrate();
      expect(await versions(tableNames)).toEqual([1, LATEST_SCHEMA_VERSION]);

      // A crash after the upgrade ran but before its version was recorded (MySQL's DDL
      // commits on its own): the next open runs or skips the step without harm.
      const q = database.dialect === 'mysql' ? '`' : '"';
      await database.admin(`DELETE FROM ${q}${tableNames.migrations}${q} WHERE version = ${LATEST_SCHEMA_VERSION}`);
      const reopened = open(tableNames);
      await reopened.migrate();
      expect(await versions(tableNames)).toEqual([1, LATEST_SCHEMA_VERSION]);
      expect(await primaryKey(database, tableNames.records)).toEqual(['provider', 'account', 'at', 'id']);
      expect(await reopened.queryRecords()).toEqual(range(0, 6).map((n) => makeRecord(n)));
    });
  });
}
