import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { integrationServer, runKillableChild, startTcpProxy, type TcpProxy, TEST_TOKEN_ENV } from '@kefu/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetStatus } from '../src/index.js';
import { dropSchemas, dropTables, queryOnce, uniqueSuffix } from './support/postgres-scratch.js';
import { assertBuilt, startEventingProcess, type WorkerProcess } from './support/worker-processes.js';

/**
 * The issue's "done when" on real parts: 3 `kefu worker` processes (the built CLI, as users
 * run it) share one job's emulated WeChat accounts through PostgreSQL while the test
 * SIGKILLs one of them (and starts a replacement), terminates the workers' server
 * connections three times (`pg_terminate_backend`), and stalls one worker's network (its
 * database URL goes through the testkit's TCP proxy, which stops forwarding until that
 * worker has given up on hung connections and tried new ones). Every fault is triggered by
 * the run's progress (events, row counts), never by the clock. At the end the table equals
 * the emulator's ground truth, every process exited 0 (the killed one by SIGKILL) without
 * crash output, and `kefu worker status --json` shows each account's history.
 */

const postgres = await integrationServer('postgres');
const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const DAY_MS = 86_400_000;
const ACCOUNTS = 6;
/** Terminate the workers' connections when the table holds these shares of the ground truth. */
const TERMINATE_AT = [0.25, 0.5, 0.75];
const CRASH_OUTPUT = /Unhandled|unhandled 'error' event|^\s+at .+:\d+:\d+\)?$/m;

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 20));

describe.skipIf(!postgres.available)(
  `a fleet of 3 \`kefu worker\` processes through kills, terminated and stalled connections (${postgres.reason ?? 'real server'})`,
  () => {
    const suffix = uniqueSuffix();
    const job = `faults-${suffix}`;
    const applicationName = `kefu-fleet-faults-${suffix}`;
    const tables = {
      records: `kefu_ff_rec_${suffix}`,
      checkpoints: `kefu_ff_cp_${suffix}`,
      registry: `kefu_ff_work_${suffix}`,
    };
    const schema = `kefu_ff_jobs_${suffix}`;
    let emulator: RunningEmulator;
    let proxy: TcpProxy;
    let scratch: string;
    let admin: pg.Client;
    let expected = new Map<string, number>();
    let range: { from: string; to: string };
    const workers: WorkerProcess[] = [];
    let victim: WorkerProcess;
    let stalled: WorkerProcess;
    let exits: Array<number | string> = [];
    let terminated = 0;
    let acceptedDuringStall = 0;

    /** A database URL tagged with the fleet's application name (the connections to terminate). */
    const tagged = (base: string) => {
      const url = new URL(base);
      url.searchParams.set('application_name', applicationName);
      return url.href;
    };

    /** A config whose database sink (records, checkpoints, jobs, tokens) is at `url`. */
    const writeConfig = (name: string, url: string): string => {
      const path = join(scratch, `${name}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          providers: [
            {
              use: '@kefu/wechat-mp',
              id: 'wx',
              config: {
                baseUrl: emulator.wechat.baseUrl,
                accounts: emulator.wechat.accounts.map(({ appId, secret }) => ({ appId, secret })),
                pageSize: 25,
              },
            },
          ],
          sinks: [
            {
              use: '@kefu/sink-db',
              id: 'db',
              config: {
                url,
                table: tables.records,
                checkpointTable: tables.checkpoints,
                // A hung connection becomes a typed timeout within seconds, then is retried.
                statementTimeoutMs: 2000,
                connectTimeoutMs: 2000,
              },
            },
          ],
          worker: { table: tables.registry, schema, superviseIntervalSeconds: 1 },
          sync: { batchSize: 20, concurrency: 1 },
        }),
      );
      return path;
    };

    const startWorker = (config: string) => {
      const worker = startEventingProcess(
        [
          BIN,
          'worker',
          '-c',
          config,
          '--job',
          job,
          '--once',
          '--json',
          '--concurrency',
          '2',
          '--heartbeat-seconds',
          '10',
          '--retry-delay-seconds',
          '1',
          '--resync-seconds',
          '3600',
          '--from',
          range.from,
          '--to',
          range.to,
        ],
        TEST_TOKEN_ENV,
      );
      workers.push(worker);
      return worker;
    };

    const rows = async () =>
      Number(
        (await admin.query(`SELECT count(*) AS n FROM "${tables.records}"`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0]
          .n,
      );
    const total = () => [...expected.values()].reduce((sum, count) => sum + count, 0);
    const running = () => workers.some((worker) => worker.child.exitCode === null && worker.child.signalCode === null);

    /** Waits until the table holds `share` of the ground truth, or every worker has stopped. */
    const untilShare = async (share: number) => {
      while (running() && (await rows()) < share * total()) await nextTurn();
    };

    const terminateAlongTheWay = async () => {
      for (const share of TERMINATE_AT) {
        await untilShare(share);
        if (!running()) return;
        const result = await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
          [applicationName],
        );
        terminated += result.rowCount ?? 0;
      }
    };

    /** SIGKILL a worker mid-account (after its first commit) and start a replacement. */
    const killOne = async (direct: string) => {
      await victim.when((event) => event.type === 'batch-committed');
      victim.child.kill('SIGKILL');
      startWorker(direct);
    };

    /** Stall the proxied worker mid-account until it has opened two new connections, then forward again. */
    const stallOne = async (worker: WorkerProcess) => {
      await worker.when((event) => event.type === 'batch-committed');
      proxy.stall();
      const acceptedAtStall = proxy.accepted;
      // Until its sink has reconnected twice and its own job, heartbeat or token connection
      // has given up on the hang too (a typed timeout within the configured statement timeout).
      const noticed = () =>
        proxy.accepted >= acceptedAtStall + 2 &&
        worker.stderr.some((line) => line.includes('WORKERS_DATABASE_TIMEOUT'));
      while (worker.child.exitCode === null && !noticed()) await nextTurn();
      acceptedDuringStall = proxy.accepted - acceptedAtStall;
      proxy.resume();
    };

    beforeAll(async () => {
      assertBuilt();
      emulator = await startEmulator({
        seed: `fleet-faults-${suffix}`,
        wechat: { accounts: ACCOUNTS, days: 2, recordsPerDay: 400 },
        // Slow enough that the faults land mid-account.
        faults: { latencyMs: 10 },
      });
      const to = new Date(emulator.clock.now());
      const from = new Date(to.getTime() - 2 * DAY_MS);
      range = { from: from.toISOString(), to: to.toISOString() };
      expected = new Map(
        emulator.wechat.accounts.map((a) => [
          a.appId,
          emulator.wechat.expectedRecords({ appId: a.appId, from, to }).length,
        ]),
      );
      scratch = mkdtempSync(join(tmpdir(), 'kefu-fleet-faults-'));
      admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      const server = new URL(postgres.url);
      proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
      const proxied = new URL(tagged(postgres.url));
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      const direct = writeConfig('direct', tagged(postgres.url));
      const throughProxy = writeConfig('proxied', proxied.href);

      victim = startWorker(direct);
      startWorker(direct);
      stalled = startWorker(throughProxy);
      await Promise.all([killOne(direct), stallOne(stalled), terminateAlongTheWay()]);
      exits = await Promise.all(workers.map((worker) => worker.exited));
    }, 150_000);

    afterAll(async () => {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await proxy?.close();
      await emulator?.stop();
      await admin?.end().catch(() => undefined);
      await dropTables(postgres.url, [...Object.values(tables), `${tables.records}_migrations`]).catch(() => undefined);
      await dropSchemas(postgres.url, [schema]).catch(() => undefined);
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    it('then every fault happened: one worker killed, connections terminated, the proxied worker stalled and reconnecting', () => {
      expect(victim.child.signalCode).toBe('SIGKILL');
      expect(terminated, 'connections terminated during the run').toBeGreaterThanOrEqual(TERMINATE_AT.length);
      expect(acceptedDuringStall, 'new connections the stalled worker opened').toBeGreaterThanOrEqual(2);
      // The stalled worker noticed: its hung writes became typed timeouts, retried on new connections.
      expect(stalled.stderr.join('\n')).toContain('SINK_DB_TIMEOUT');
    });

    it('then every other process exited 0 without crash output', () => {
      const survivors = workers.filter((worker) => worker !== victim);
      const detail = survivors.map((w) => w.stderr.slice(-10).join('\n')).join('\n---\n');
      expect(
        exits.filter((_, index) => workers[index] !== victim),
        detail,
      ).toEqual(survivors.map(() => 0));
      for (const worker of workers) expect(worker.stderr.join('\n')).not.toMatch(CRASH_OUTPUT);
    });

    it('then the records table equals the ground truth: every record once', async () => {
      const stored = await queryOnce<{ account: string; records: string; distinct_ids: string }>(
        postgres.url,
        `SELECT account, count(*) AS records, count(DISTINCT id) AS distinct_ids FROM "${tables.records}" GROUP BY account`,
      );
      expect(new Map(stored.map((row) => [row.account, Number(row.records)]))).toEqual(expected);
      for (const row of stored) expect(row.distinct_ids).toBe(row.records);
      expect(Math.min(...expected.values())).toBeGreaterThan(0);
    });

    it('then the killed worker’s accounts were taken over: claimed again by another worker, a later attempt', () => {
      const claimedByVictim = new Set(victim.events.flatMap((e) => (e.type === 'claimed' ? [e.target] : [])));
      const releasedByVictim = new Set(victim.events.flatMap((e) => (e.type === 'released' ? [e.target] : [])));
      const abandoned = [...claimedByVictim].filter((target) => !releasedByVictim.has(target));
      expect(abandoned.length).toBeGreaterThan(0);
      const takeovers = workers
        .filter((worker) => worker !== victim)
        .flatMap((worker) => worker.events)
        .filter((e) => e.type === 'claimed' && e.previousOwner !== undefined);
      for (const target of abandoned) {
        expect(
          takeovers.find((e) => e.target === target),
          `takeover of ${String(target)}`,
        ).toMatchObject({
          attempt: expect.any(Number),
        });
      }
      for (const takeover of takeovers) expect(takeover.attempt).toBeGreaterThanOrEqual(2);
    });

    it('then `kefu worker status --json` shows each account synced, last status done, held by nobody, takeovers counted as claims', async () => {
      const run = await runKillableChild(
        BIN,
        ['worker', 'status', '-c', join(scratch, 'direct.json'), '--job', job, '--json'],
        { env: TEST_TOKEN_ENV, timeoutMs: 30_000 },
      );
      expect(run.code, run.stderr).toBe(0);
      const status = JSON.parse(run.stdout) as FleetStatus;
      expect(status.accounts).toHaveLength(ACCOUNTS);
      expect(status.workers).toEqual({});
      const releasedByVictim = new Set(victim.events.flatMap((e) => (e.type === 'released' ? [e.target] : [])));
      const abandoned = victim.events.flatMap((e) =>
        e.type === 'claimed' && !releasedByVictim.has(e.target) ? [e.target] : [],
      );
      for (const account of status.accounts) {
        expect(account.syncs).toBeGreaterThanOrEqual(1);
        expect(account).toMatchObject({ lastStatus: 'done', heldBy: null, consecutiveFailures: 0 });
        expect(account.claims).toBeGreaterThanOrEqual(account.syncs);
        expect(account.lagSeconds).not.toBeNull();
      }
      for (const target of abandoned) {
        const account = status.accounts.find((a) => a.target === target);
        expect(account?.claims, `claims of ${String(target)}`).toBeGreaterThanOrEqual(2);
      }
    });
  },
);
