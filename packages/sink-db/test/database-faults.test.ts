import { isKefuError, type KefuError } from '@kefu/core';
import { startTcpProxy, type TcpProxy } from '@kefu/testkit';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DatabaseSink, type DatabaseSinkOptions } from '../src/index.js';
import {
  checkpointAfter,
  makeBatch,
  makeRecord,
  range,
  type TestDatabase,
  testDatabases,
  uniqueTableName,
} from './support/databases.js';

/**
 * Database faults on real servers, with a loopback TCP proxy between the sink and the
 * server: sessions ended by the server (`pg_terminate_backend`, MySQL `KILL CONNECTION`)
 * while a sync writes, and a network that stops forwarding. The proxy's upstream ports
 * name exactly this test's sessions, so parallel suites on the same servers are untouched.
 */

const databases = (await testDatabases()).filter((database) => database.dialect !== 'sqlite');
afterAll(async () => {
  for (const database of databases) await database.dispose();
});

/** Ends the server sessions behind the proxy; resolves with how many it ended. */
async function endSessions(database: TestDatabase, proxy: TcpProxy): Promise<number> {
  const ports = proxy.upstreamPorts();
  if (ports.length === 0) return 0;
  if (database.dialect === 'postgres') {
    const rows = await database.admin(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE client_port IN (${ports.join(', ')})`,
    );
    return rows.length;
  }
  const rows = await database.admin(
    `SELECT id FROM information_schema.processlist WHERE ${ports.map((port) => `host LIKE '%:${port}'`).join(' OR ')}`,
  );
  for (const row of rows) await database.admin(`KILL CONNECTION ${Number(row.id)}`).catch(() => undefined);
  return rows.length;
}

async function rejection(promise: Promise<unknown>): Promise<KefuError> {
  try {
    await promise;
  } catch (error) {
    if (isKefuError(error)) return error;
    throw new Error(`expected a KefuError, got ${String(error)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** The URL of `database` with its host and port replaced by the proxy's. */
function throughProxy(database: TestDatabase, proxy: TcpProxy): string {
  const url = new URL(database.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.href;
}

for (const database of databases) {
  describe.skipIf(!database.available)(`database faults on ${database.dialect}`, () => {
    const sinks: DatabaseSink[] = [];
    const proxies: TcpProxy[] = [];
    const tables: string[] = [];

    async function openSink(overrides: Partial<DatabaseSinkOptions> = {}): Promise<{
      sink: DatabaseSink;
      proxy: TcpProxy;
    }> {
      const server = new URL(database.url);
      const proxy = await startTcpProxy({
        host: server.hostname,
        port: Number(server.port || (database.dialect === 'postgres' ? 5432 : 3306)),
      });
      proxies.push(proxy);
      const table = uniqueTableName('faults');
      tables.push(table, `${table}_cp`, `${table}_migrations`);
      const sink = new DatabaseSink({
        url: throughProxy(database, proxy),
        table,
        checkpointTable: `${table}_cp`,
        ...overrides,
      });
      sinks.push(sink);
      return { sink, proxy };
    }

    afterEach(async () => {
      for (const proxy of proxies.splice(0)) proxy.resume();
      await Promise.all(sinks.splice(0).map((sink) => sink.close()));
      await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
      await database.dropTables(tables.splice(0));
    });

    it('given a sync of 2 000 records in 40 batches, when its sessions are ended mid-write six times, then no process crashes and the table equals the ground truth', async () => {
      const { sink, proxy } = await openSink({ poolSize: 2 });
      const killAt = new Set([3, 9, 16, 22, 30, 37]);
      let ended = 0;
      for (let batch = 0; batch < 40; batch++) {
        const records = range(batch * 50, batch * 50 + 50).map((n) => makeRecord(n));
        const writing = sink.write(makeBatch(records, batch * 50 + 50));
        // Ends the sessions while the transaction is on the wire: before, during or after its commit.
        if (killAt.has(batch)) ended += await endSessions(database, proxy);
        await writing;
      }
      expect(ended).toBeGreaterThan(0);
      const stored = await sink.queryRecords({ limit: 10_000 });
      expect(stored.map((record) => record.id)).toEqual(range(0, 2000).map((n) => makeRecord(n).id));
      expect(await sink.countRecords()).toBe(2000);
      expect(await sink.load('job/wechat-mp/wx-account-1')).toEqual(checkpointAfter(2000));
    });

    it('given a network that stops forwarding, when a write and a readiness check run with retries off, then each fails with SINK_DB_TIMEOUT and succeeds once it forwards again', async () => {
      const { sink, proxy } = await openSink({ statementTimeoutMs: 1000, connectTimeoutMs: 1000, outageRetryMs: 0 });
      await sink.write(
        makeBatch(
          range(0, 10).map((n) => makeRecord(n)),
          10,
        ),
      );
      proxy.stall();
      const failed = await rejection(
        sink.write(
          makeBatch(
            range(10, 20).map((n) => makeRecord(n)),
            20,
          ),
        ),
      );
      expect(failed.code).toBe('SINK_DB_TIMEOUT');
      expect(failed.retryable).toBe(true);
      expect((await rejection(sink.check())).code).toBe('SINK_DB_TIMEOUT');
      proxy.resume();
      await sink.write(
        makeBatch(
          range(10, 20).map((n) => makeRecord(n)),
          20,
        ),
      );
      await sink.check();
      expect(await sink.countRecords()).toBe(20);
      expect(await sink.load('job/wechat-mp/wx-account-1')).toEqual(checkpointAfter(20));
    });

    it('given a network that stops forwarding mid-sync, when it forwards again, then the write waiting out the outage commits once and the table equals the ground truth', async () => {
      const { sink, proxy } = await openSink({ statementTimeoutMs: 1000, connectTimeoutMs: 1000, poolSize: 1 });
      await sink.write(
        makeBatch(
          range(0, 50).map((n) => makeRecord(n)),
          50,
        ),
      );
      proxy.stall();
      const acceptedAtStall = proxy.accepted;
      const writing = sink.write(
        makeBatch(
          range(50, 100).map((n) => makeRecord(n)),
          100,
        ),
      );
      // The stalled connection timed out and the sink is trying new ones: the outage is being retried.
      await vi.waitFor(() => expect(proxy.accepted).toBeGreaterThan(acceptedAtStall + 1), {
        timeout: 60_000,
        interval: 50,
      });
      proxy.resume();
      await writing;
      await sink.write(
        makeBatch(
          range(100, 150).map((n) => makeRecord(n)),
          150,
        ),
      );
      const stored = await sink.queryRecords({ limit: 1000 });
      expect(stored.map((record) => record.id)).toEqual(range(0, 150).map((n) => makeRecord(n).id));
      expect(await sink.load('job/wechat-mp/wx-account-1')).toEqual(checkpointAfter(150));
    });
  });
}
