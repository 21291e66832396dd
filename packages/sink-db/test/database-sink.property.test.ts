import type { KefuRecord } from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatabaseSink } from '../src/index.js';
import { checkpointAfter, makeBatch, makeRecord } from './support/databases.js';

// Properties run on in-memory SQLite (one private database per sink): the SQL is the same
// as on the servers, which the parameterized suite covers with fixed cases.

/**
 * Records with a few distinct times, so ties on `at` are ordered by id. An id names one
 * record at one time (providers derive it from content that includes the time; the
 * table's key is (provider, account, at, id)), so the time is a function of the id here.
 */
const recordArbitrary = fc
  .record({
    n: fc.integer({ min: 0, max: 400 }),
    customer: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ n, customer }) =>
    makeRecord(n, {
      at: new Date(Date.UTC(2026, 10, 1, 0, 0, (n * 7) % 21)).toISOString(),
      customer: `customer-${customer}`,
    }),
  );

function byQueryOrder(a: KefuRecord, b: KefuRecord): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Forty runs, each a SQLite file with fsynced commits: seconds on a loaded shared machine, not a timing goal. */
const PROPERTY_TIMEOUT_MS = 60_000;

describe('DatabaseSink properties (SQLite)', () => {
  it(
    'given any sequence of batches with replays and overlaps, then the table holds each first-written record once and the last checkpoint',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(recordArbitrary, { maxLength: 30 }), { minLength: 1, maxLength: 8 }),
          async (batches) => {
            const sink = new DatabaseSink({ url: ':memory:', maxRowsPerInsert: 7 });
            try {
              const expected = new Map<string, KefuRecord>();
              for (const [index, records] of batches.entries()) {
                await sink.write(makeBatch(records, index + 1));
                for (const record of records) if (!expected.has(record.id)) expected.set(record.id, record);
              }
              const stored = await sink.queryRecords({ limit: 10_000 });
              expect(stored).toEqual([...expected.values()].sort(byQueryOrder));
              expect(await sink.load('job/wechat-mp/wx-account-1')).toEqual(checkpointAfter(batches.length));
            } finally {
              await sink.close();
            }
          },
        ),
        { numRuns: 40 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'given any records, a customer filter and a page size, then paging with `after` returns exactly the filtered set in order',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(recordArbitrary, { selector: (record) => record.id, maxLength: 60 }),
          fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
          fc.integer({ min: 1, max: 9 }),
          async (records, customer, pageSize) => {
            const sink = new DatabaseSink({ url: ':memory:' });
            try {
              await sink.write(makeBatch(records, records.length));
              const filter = customer === undefined ? {} : { customer: `customer-${customer}` };
              const paged: KefuRecord[] = [];
              let after: KefuRecord | undefined;
              for (;;) {
                const page = await sink.queryRecords({ ...filter, limit: pageSize, ...(after ? { after } : {}) });
                expect(page.length).toBeLessThanOrEqual(pageSize);
                paged.push(...page);
                if (page.length < pageSize) break;
                after = page.at(-1);
              }
              const expected = records.filter(
                (record) => customer === undefined || record.customer === `customer-${customer}`,
              );
              expect(paged).toEqual(expected.sort(byQueryOrder));
              expect(await sink.countRecords(filter)).toBe(expected.length);
            } finally {
              await sink.close();
            }
          },
        ),
        { numRuns: 40 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
