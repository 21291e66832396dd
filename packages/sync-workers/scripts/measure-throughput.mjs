// Measures fleet throughput: N worker processes (N = 1, 2, 4 by default) sync the same
// emulated WeChat accounts into PostgreSQL (records + checkpoints + pg-boss jobs), optionally
// fanning out to NATS JetStream too. Run after building:
//   pnpm build && node packages/sync-workers/scripts/measure-throughput.mjs [--nats] [--latency 20]
// Each worker is test/fixtures/worker-process.mjs (the same process the fleet test runs).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulator } from '@kefu/emulator';
import pg from 'pg';
import { PgBoss } from 'pg-boss';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2,4' },
    accounts: { type: 'string', default: '32' },
    days: { type: 'string', default: '3' },
    'records-per-day': { type: 'string', default: '400' },
    latency: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '200' },
    'page-size': { type: 'string', default: '100' },
    nats: { type: 'boolean', default: false },
  },
});
const postgresUrl = process.env.KEFU_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const natsUrl = process.env.KEFU_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const fixture = fileURLToPath(new URL('../test/fixtures/worker-process.mjs', import.meta.url));
const DAY_MS = 86_400_000;

const emulator = await startEmulator({
  seed: 'throughput',
  wechat: {
    accounts: Number(values.accounts),
    days: Number(values.days),
    recordsPerDay: Number(values['records-per-day']),
  },
  // A platform round trip; without it the emulator answers faster than any real API.
  faults: { latencyMs: Number(values.latency) },
});
const to = new Date(emulator.clock.now());
const from = new Date(to.getTime() - Number(values.days) * DAY_MS);

async function query(text) {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

async function runFleet(workers) {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
  const tables = {
    workTable: `kefu_work_${suffix}`,
    schema: `kefu_jobs_${suffix}`,
    tokenTable: `kefu_tokens_${suffix}`,
    recordsTable: `kefu_rec_${suffix}`,
    checkpointTable: `kefu_cp_${suffix}`,
  };
  const stream = `KEFU_BENCH_${suffix}`.toUpperCase();
  const spec = (index) => ({
    ...tables,
    postgresUrl,
    ...(values.nats ? { natsUrl, stream, subjectPrefix: `kefu_bench_${suffix}` } : {}),
    wechatBaseUrl: emulator.wechat.baseUrl,
    accounts: emulator.wechat.accounts.map(({ appId, secret }) => ({ appId, secret })),
    job: 'bench',
    workerId: `bench-${index}`,
    concurrency: Number(values.concurrency),
    pollIntervalMs: 500,
    pageSize: Number(values['page-size']),
    batchSize: Number(values['batch-size']),
    from: from.toISOString(),
    to: to.toISOString(),
  });
  // A fleet installs pg-boss's schema once, not per run: install it before the clock starts.
  const installer = new PgBoss({
    connectionString: postgresUrl,
    schema: tables.schema,
    supervise: false,
    schedule: false,
  });
  installer.on('error', () => undefined);
  await installer.start();
  await installer.stop();
  const load = loadavg()[0];
  const started = performance.now();
  const exits = Array.from({ length: workers }, (_, index) => {
    const child = spawn(process.execPath, [fixture], {
      env: { ...process.env, KEFU_WORKER_SPEC: JSON.stringify(spec(index)) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  });
  const codes = await Promise.all(exits);
  const seconds = (performance.now() - started) / 1000;
  const [{ count }] = await query(`SELECT count(*)::int AS count FROM "${tables.recordsTable}"`);
  const { schema, ...tableNames } = tables;
  for (const table of [...Object.values(tableNames), `${tables.recordsTable}_migrations`]) {
    await query(`DROP TABLE IF EXISTS "${table}"`);
  }
  await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  if (values.nats) {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const connection = await connect({ servers: natsUrl });
    await (await jetstreamManager(connection)).streams.delete(stream).catch(() => false);
    await connection.close();
  }
  return { workers, records: count, seconds, codes, load };
}

const expected = emulator.wechat.accounts.reduce(
  (sum, a) => sum + emulator.wechat.expectedRecords({ appId: a.appId, from, to }).length,
  0,
);
await runFleet(1); // warm-up: file cache, PostgreSQL buffers, JIT of the emulator
const rows = [];
for (const workers of values.workers.split(',').map(Number)) {
  const result = await runFleet(workers);
  if (result.records !== expected || result.codes.some((code) => code !== 0)) {
    throw new Error(
      `run with ${workers} workers stored ${result.records}/${expected} records, exit codes ${result.codes}`,
    );
  }
  rows.push(result);
  process.stderr.write(`${workers} workers: ${result.records} records in ${result.seconds.toFixed(2)} s\n`);
}
await emulator.stop();

const base = rows[0].records / rows[0].seconds;
console.log(
  `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; ` +
    `${values.accounts} accounts × ${values.days} days, ${expected} records, platform latency ${values.latency} ms, ` +
    `concurrency ${values.concurrency} per worker, page ${values['page-size']}, batch ${values['batch-size']}${values.nats ? ', + NATS JetStream sink' : ''}`,
);
console.log('| workers | records | seconds | records/s | speed-up | load average at start |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  const rate = row.records / row.seconds;
  console.log(
    `| ${row.workers} | ${row.records} | ${row.seconds.toFixed(2)} | ${Math.round(rate)} | ${(rate / base).toFixed(2)}× | ${row.load.toFixed(1)} |`,
  );
}
