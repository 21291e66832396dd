import { isKefuError, type KefuError, type KefuRecord, type RecordBatch } from '@kefu/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DatabaseSink, type DatabaseSinkOptions, LATEST_SCHEMA_VERSION } from '../src/index.js';
import {
  checkpointAfter,
  makeBatch,
  makeRecord,
  range,
  STREAM,
  testDatabases,
  uniqueTableName,
} from './support/databases.js';

const databases = await testDatabases();
afterAll(async () => {
  for (const database of databases) await database.dispose();
});

async function rejection(promise: Promise<unknown>): Promise<KefuError> {
  try {
    await promise;
  } catch (error) {
    if (isKefuError(error)) return error;
    throw new Error(`expected a KefuError, got ${String(error)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Orders records the way queryRecords does (at, provider, account, id; ids here are ASCII). */
function byTimeThenId(a: KefuRecord, b: KefuRecord): number {
  return a.at === b.at ? (a.id < b.id ? -1 : 1) : a.at < b.at ? -1 : 1;
}

for (const database of databases) {
  describe.skipIf(!database.available)(`DatabaseSink on ${database.dialect}`, () => {
    const sinks: DatabaseSink[] = [];
    const tables: string[] = [];

    /** A sink on fresh, uniquely named tables (dropped after the test). */
    function openSink(overrides: Partial<DatabaseSinkOptions> = {}): DatabaseSink {
      const table = overrides.table ?? uniqueTableName('rec');
      const checkpointTable = overrides.checkpointTable ?? `${table}_cp`;
      tables.push(table, checkpointTable, `${table}_migrations`);
      const sink = new DatabaseSink({ url: database.url, ...overrides, table, checkpointTable });
      sinks.push(sink);
      return sink;
    }

    afterEach(async () => {
      await Promise.all(sinks.splice(0).map((sink) => sink.close()));
      await database.dropTables([...new Set(tables.splice(0))]);
    });

    it('given fresh tables, when two sinks migrate at once and again later, then the latest schema version is recorded once', async () => {
      const first = openSink();
      const second = openSink({ table: first.config.table, checkpointTable: first.config.checkpointTable });
      await Promise.all([first.migrate(), second.migrate()]);
      const third = openSink({ table: first.config.table, checkpointTable: first.config.checkpointTable });
      await third.migrate();
      const versions = await database.admin(`SELECT version FROM ${first.config.table}_migrations`);
      expect(versions.map((row) => Number(row.version))).toEqual([LATEST_SCHEMA_VERSION]);
      expect(await third.countRecords()).toBe(0);
    });

    it('given records with multi-byte text, emoji, control characters and a big raw payload, when written and read back, then they are equal', async () => {
      const sink = openSink();
      const control = `${Array.from({ length: 31 }, (_, index) => String.fromCharCode(index + 1)).join('')}\u007f`;
      const bigRaw = {
        pages: range(0, 2000).map((n) => ({
          n,
          body: `第${n}条 ${'x'.repeat(400)} 🎉`,
          nested: { ok: n % 2 === 0, v: null },
        })),
        bigInt: '12345678901234567890',
      };
      const records: KefuRecord[] = [
        makeRecord(1, { text: '你好，客服 😀👍🏽 — ünïcödé ✓', customer: 'oAbCdEf_微信' }),
        makeRecord(2, { text: `control:${control}:end`, raw: { text: `control:${control}`, emoji: '🧧' } }),
        makeRecord(3, { raw: bigRaw, text: 'big' }),
        makeRecord(4, {
          kind: 'image',
          agent: 'kf2001@gh_test',
          media: { key: 'media-key', url: 'https://example.com/a.jpg', sizeBytes: 1024 },
          quote: { kind: 'text', text: '引用 🔁' },
          text: undefined,
          raw: [1, 'two', { three: 3.5 }, null, true],
        }),
        makeRecord(5, {
          direction: 'system',
          kind: 'event',
          event: 'session_closed',
          text: undefined,
          raw: 'a raw string payload',
        }),
        // Case differs only: ids are case-sensitive on every database (MySQL uses utf8mb4_bin).
        makeRecord(6, { id: 'oCaseSensitive' }),
        makeRecord(7, { id: 'ocasesensitive' }),
      ].map(
        (record) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as KefuRecord,
      );
      await sink.write(makeBatch(records, 7));

      const back = await sink.queryRecords();
      expect(back).toEqual([...records].sort(byTimeThenId));
      expect(await sink.countRecords()).toBe(7);
    });

    it('given text and raw containing U+0000, when read back, then only PostgreSQL (which cannot store it) has it replaced by U+FFFD', async () => {
      const sink = openSink();
      const record = makeRecord(1, { text: 'a\u0000b', raw: { text: 'a\u0000b' } });
      await sink.write(makeBatch([record], 1));
      const [back] = await sink.queryRecords();
      const expected = database.dialect === 'postgres' ? 'a\uFFFDb' : 'a\u0000b';
      expect(back?.text).toBe(expected);
      expect(back?.raw).toEqual({ text: expected });
    });

    it('given a written batch, when it is replayed and an overlapping batch follows, then no record is stored twice', async () => {
      const sink = openSink();
      const first = range(0, 30).map((n) => makeRecord(n));
      await sink.write(makeBatch(first, 30));
      await sink.write(makeBatch(first, 30));
      await sink.write(
        makeBatch(
          range(20, 50).map((n) => makeRecord(n, { text: 'replayed copy' })),
          50,
        ),
      );

      expect(await sink.countRecords()).toBe(50);
      const back = await sink.queryRecords({ limit: 10_000 });
      expect(back.map((record) => record.id)).toEqual(range(0, 50).map((n) => makeRecord(n).id));
      // The first copy wins: a replay never rewrites a stored record.
      expect(back[25]?.text).toBe('message 25');
      expect(await sink.load('job/wechat-mp/wx-account-1')).toEqual(checkpointAfter(50));
    });

    it('given a batch whose insert fails in a later chunk, when written, then nothing of it is kept and the old checkpoint stays', async () => {
      const sink = openSink({ maxRowsPerInsert: 2 });
      await sink.write(
        makeBatch(
          range(0, 3).map((n) => makeRecord(n)),
          3,
        ),
      );
      const table = sink.config.table;
      // A real fault from the database: a constraint rejecting one row of the batch.
      if (database.dialect === 'sqlite') {
        await database.admin(
          `CREATE TRIGGER ${table}_poison BEFORE INSERT ON "${table}" WHEN NEW.text = 'poison' BEGIN SELECT RAISE(ABORT, 'poison rejected'); END`,
        );
      } else {
        const quoted = database.dialect === 'mysql' ? `\`${table}\`` : `"${table}"`;
        await database.admin(
          `ALTER TABLE ${quoted} ADD CONSTRAINT ${table}_poison CHECK (text IS NULL OR text <> 'poison')`,
        );
      }
      const batch = makeBatch([...range(3, 9).map((n) => makeRecord(n)), makeRecord(9, { text: 'poison' })], 10);

      const error = await rejection(sink.write(batch));
      expect(error.code).toBe('SINK_DB_CONSTRAINT');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(table);
      expect(await sink.countRecords()).toBe(3);
      expect(await sink.load('job/wechat-mp/wx-account-1')).toEqual(checkpointAfter(3));
    });

    it('given two sink instances on one table, when they write overlapping batches concurrently, then every record is stored exactly once', async () => {
      const first = openSink();
      const second = openSink({ table: first.config.table, checkpointTable: first.config.checkpointTable });
      // Each job writes its batches in order, as a pipeline does; the two jobs race each other.
      const writeJob = async (sink: DatabaseSink, key: string, offset: number) => {
        for (let start = offset; start < offset + 200; start += 25) {
          await sink.write(
            makeBatch(
              range(start, start + 25).map((n) => makeRecord(n)),
              start + 25,
              key,
            ),
          );
        }
      };
      await Promise.all([writeJob(first, 'job-a', 0), writeJob(second, 'job-b', 100)]);

      expect(await first.countRecords()).toBe(300);
      const ids = (await second.queryRecords({ limit: 10_000 })).map((record) => record.id);
      expect(ids).toEqual(range(0, 300).map((n) => makeRecord(n).id));
      expect(await first.load('job-a')).toEqual(checkpointAfter(200));
      expect(await first.load('job-b')).toEqual(checkpointAfter(300));
    });

    it('given an empty batch, when written, then only the checkpoint advances', async () => {
      const sink = openSink();
      await sink.write(makeBatch([], 0));
      await sink.write(makeBatch([], 42));
      expect(await sink.countRecords()).toBe(0);
      expect(await sink.load('job/wechat-mp/wx-account-1')).toEqual(checkpointAfter(42));
    });

    it('given the CheckpointStore view, when checkpoints are saved and loaded, then the latest one per key comes back', async () => {
      const sink = openSink();
      expect(await sink.load('missing')).toBeUndefined();
      const recordAt = '2026-11-01T08:00:00.000Z';
      await sink.save('job/a', { ...checkpointAfter(1), recordAt });
      await sink.save('job/a', { ...checkpointAfter(2), position: { cursor: '9007199254740993', window: ['x', 1] } });
      await sink.save('job/b', checkpointAfter(7));
      expect(await sink.load('job/a')).toEqual({
        ...checkpointAfter(2),
        position: { cursor: '9007199254740993', window: ['x', 1] },
      });
      expect(await sink.load('job/b')).toEqual(checkpointAfter(7));

      const invalid = await rejection(sink.save('job/a', { ...checkpointAfter(3), skip: -1 }));
      expect(invalid.code).toBe('SINK_DB_CHECKPOINT_INVALID');
      expect(await sink.load('job/a')).toEqual({
        ...checkpointAfter(2),
        position: { cursor: '9007199254740993', window: ['x', 1] },
      });
    });

    it('given stored progress, when an empty checkpoint is saved, then it is refused until the key is deleted', async () => {
      const sink = openSink();
      const empty = { provider: STREAM.provider, account: STREAM.account, position: null, skip: 0 };
      await sink.save('job/fresh', empty);
      expect(await sink.load('job/fresh')).toEqual(empty);
      await sink.save('job/a', checkpointAfter(5));
      const refused = await rejection(sink.save('job/a', empty));
      expect(refused.code).toBe('SINK_DB_CHECKPOINT_INVALID');
      expect(refused.message).toContain('job/a');
      expect(await sink.load('job/a')).toEqual(checkpointAfter(5));

      expect(await sink.entries()).toEqual([
        ['job/a', checkpointAfter(5)],
        ['job/fresh', empty],
      ]);
      expect(await sink.delete('job/a')).toBe(true);
      expect(await sink.delete('job/a')).toBe(false);
      await sink.save('job/a', empty);
      expect(await sink.load('job/a')).toEqual(empty);
    });

    it('given a stored checkpoint that is not valid, when loaded, then a typed error names the key', async () => {
      const sink = openSink();
      await sink.save('job/corrupt', checkpointAfter(1));
      await database.admin(
        `UPDATE ${sink.config.checkpointTable} SET value = '{"provider":1}' WHERE checkpoint_key = 'job/corrupt'`,
      );
      const error = await rejection(sink.load('job/corrupt'));
      expect(error.code).toBe('SINK_DB_CHECKPOINT_INVALID');
      expect(error.message).toContain('job/corrupt');
    });

    it('given many records, when queried with filters and paged with `after`, then pages join up to the filtered set in order', async () => {
      const sink = openSink();
      const records = range(0, 60).map((n) =>
        makeRecord(n, { at: new Date(Date.UTC(2026, 10, 1, 0, 0, Math.floor(n / 3))).toISOString() }),
      );
      await sink.write(makeBatch(records, 60));

      const paged: KefuRecord[] = [];
      let after: KefuRecord | undefined;
      for (;;) {
        const page = await sink.queryRecords({ customer: 'customer-1', limit: 4, ...(after ? { after } : {}) });
        paged.push(...page);
        if (page.length < 4) break;
        after = page.at(-1);
      }
      const expected = records.filter((record) => record.customer === 'customer-1').sort(byTimeThenId);
      expect(paged).toEqual(expected);

      const from = '2026-11-01T00:00:05.000Z';
      const to = '2026-11-01T00:00:10.000Z';
      const inRange = await sink.queryRecords({ from, to, provider: STREAM.provider, account: STREAM.account });
      expect(inRange.map((record) => record.id)).toEqual(
        records.filter((record) => record.at >= from && record.at < to).map((record) => record.id),
      );
      expect(await sink.countRecords({ from, to })).toBe(15);
      expect(await sink.countRecords({ account: 'another-account' })).toBe(0);
      expect((await rejection(sink.queryRecords({ limit: 0 }))).code).toBe('SINK_DB_QUERY_INVALID');
    });

    it('given a batch with a record of another stream or a too-long id, when written, then it is refused before anything is stored', async () => {
      const sink = openSink();
      const foreign = await rejection(sink.write(makeBatch([makeRecord(1), makeRecord(2, { account: 'other' })], 2)));
      expect(foreign.code).toBe('SINK_DB_BATCH_INVALID');
      const shapeless = await rejection(sink.write({ checkpointKey: 'job' } as unknown as RecordBatch));
      expect(shapeless.code).toBe('SINK_DB_BATCH_INVALID');
      const tooLong = await rejection(sink.write(makeBatch([makeRecord(1, { id: 'x'.repeat(192) })], 1)));
      expect(tooLong.code).toBe('SINK_DB_VALUE_INVALID');
      expect(tooLong.message).toContain('191');
      expect(await sink.countRecords()).toBe(0);
      expect(await sink.load('job/wechat-mp/wx-account-1')).toBeUndefined();
    });

    it('given a sink, when closed twice, then both resolve and later calls fail with KEFU_SINK_CLOSED', async () => {
      const sink = openSink();
      await sink.write(makeBatch([makeRecord(1)], 1));
      await sink.close();
      await sink.close();
      expect((await rejection(sink.write(makeBatch([makeRecord(2)], 2)))).code).toBe('KEFU_SINK_CLOSED');
      expect((await rejection(sink.load('job/wechat-mp/wx-account-1'))).code).toBe('KEFU_SINK_CLOSED');
    });
  });
}
