import { describeSink } from '@kefu/testkit';
import { afterAll, describe } from 'vitest';
import { DatabaseSink } from '../src/index.js';
import { testDatabases, uniqueTableName } from './support/databases.js';

const databases = await testDatabases();
afterAll(async () => {
  for (const database of databases) await database.dispose();
});

// SQLite twice: on the main thread (the default) and on a worker thread of its own.
const variants = databases.flatMap((database) =>
  database.dialect === 'sqlite'
    ? [
        { database, label: 'sqlite', thread: {} },
        { database, label: 'sqlite, worker thread', thread: { sqliteThread: 'worker' as const } },
      ]
    : [{ database, label: database.dialect, thread: {} }],
);

for (const { database, label, thread } of variants) {
  describe.skipIf(!database.available)(label, () => {
    describeSink(`DatabaseSink on ${label}`, async () => {
      const table = uniqueTableName('conf');
      const checkpointTable = `${table}_cp`;
      const quote = (name: string) => (database.dialect === 'mysql' ? `\`${name}\`` : `"${name}"`);
      const sink = new DatabaseSink({ url: database.url, table, checkpointTable, ...thread });
      return {
        sink,
        // A fresh sink is a fresh connection: what write() acknowledged must be readable there.
        readBack: async () => {
          const reader = new DatabaseSink({ url: database.url, table, checkpointTable });
          try {
            return await reader.queryRecords({ limit: 10_000 });
          } finally {
            await reader.close();
          }
        },
        // A real fault: the records table disappears under the sink (renamed away and back).
        breakSink: () =>
          database.admin(`ALTER TABLE ${quote(table)} RENAME TO ${quote(`${table}_away`)}`).then(() => undefined),
        repairSink: () =>
          database.admin(`ALTER TABLE ${quote(`${table}_away`)} RENAME TO ${quote(table)}`).then(() => undefined),
        teardown: () => database.dropTables([table, `${table}_away`, checkpointTable, `${table}_migrations`]),
      };
    });
  });
}
