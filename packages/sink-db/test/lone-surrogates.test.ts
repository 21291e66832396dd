import type { KefuRecord } from '@kefu/core';
import { DatabaseSink } from '@kefu/sink-db';
import { afterAll, describe, expect, it } from 'vitest';
import { type TestDatabase, testDatabases } from './support/databases.js';

/**
 * What each database really stores for text a platform should never send but may: lone
 * UTF-16 surrogates and U+0000. Text columns (customer, text, …) go through the drivers'
 * UTF-8 encoding, which turns a lone surrogate into U+FFFD on all three; the `raw` JSON
 * keeps it on SQLite (as a `\ud800` escape) and turns it into U+FFFD on PostgreSQL and
 * MySQL/MariaDB, whose JSON refuses the escape (MariaDB rejected the whole row before).
 * U+0000 survives everywhere but PostgreSQL. docs/sinks/database.md states this table.
 */

const databases = await testDatabases();
const stream = { provider: 'p', account: 'a' };
const LONE = 'a\uD800b\uDC00c';
const record: KefuRecord = {
  id: 'r1',
  provider: 'p',
  account: 'a',
  customer: `c${LONE}`,
  direction: 'inbound',
  kind: 'text',
  text: `${LONE}😀\u0000d`,
  at: '2026-01-01T00:00:00.000Z',
  raw: { text: `${LONE}😀\u0000d` },
};
const REPLACED = 'a\uFFFDb\uFFFDc';

const expected: Record<TestDatabase['dialect'], { customer: string; text: string; raw: string }> = {
  sqlite: { customer: `c${REPLACED}`, text: `${REPLACED}😀\u0000d`, raw: `${LONE}😀\u0000d` },
  mysql: { customer: `c${REPLACED}`, text: `${REPLACED}😀\u0000d`, raw: `${REPLACED}😀\u0000d` },
  postgres: { customer: `c${REPLACED}`, text: `${REPLACED}😀\uFFFDd`, raw: `${REPLACED}😀\uFFFDd` },
};

afterAll(async () => {
  for (const database of databases) await database.dispose();
});

describe.each(databases)('lone surrogates and U+0000 on $dialect', (database) => {
  const table = `surrogates_${process.pid}_${Date.now() % 100_000}`;
  afterAll(async () => {
    if (database.available) await database.dropTables([table, `${table}_cp`, `${table}_migrations`]);
  });

  it.skipIf(!database.available)(
    'given such a record, when written and read back, then each field comes back as documented',
    async () => {
      const sink = new DatabaseSink({ url: database.url, table, checkpointTable: `${table}_cp` });
      try {
        await sink.write({
          stream,
          checkpointKey: 'job/p/a',
          records: [record],
          checkpoint: { ...stream, position: 1, skip: 0 },
        });
        const [back] = await sink.queryRecords({});
        const want = expected[database.dialect];
        expect(back).toMatchObject({ customer: want.customer, text: want.text, raw: { text: want.raw } });
      } finally {
        await sink.close();
      }
    },
  );
});
