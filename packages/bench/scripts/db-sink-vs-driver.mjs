// Throughput of DatabaseSink.write against the bare driver doing the same work in the same
// run: per batch one transaction with a multi-row INSERT that ignores duplicates plus a
// checkpoint upsert. Imports the built dist: run `pnpm build` first.
// Usage: pnpm --filter @kefu/bench bench:db-sink [records=20000] [batch=500]
// Environment: KEFU_TEST_POSTGRES_URL, KEFU_TEST_MYSQL_URL (defaults: the local servers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DatabaseSink, RECORD_COLUMNS } from '@kefu/sink-db';
import mysql from 'mysql2/promise';
import pg from 'pg';

const TOTAL = Number(process.argv[2] ?? 20_000);
const BATCH = Number(process.argv[3] ?? 500);
const STREAM = { provider: 'bench', account: 'bench-account' };
// The same columns, in the same order, as the sink inserts.
const COLUMNS = RECORD_COLUMNS;

function record(n) {
  return {
    id: `bench-${String(n).padStart(8, '0')}`,
    ...STREAM,
    customer: `fan-${n % 97}`,
    direction: n % 2 ? 'inbound' : 'outbound',
    kind: 'text',
    text: `第${n}条消息 hello 😀 ${'x'.repeat(n % 50)}`,
    at: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
    raw: { ad_chatting_id: n, ad_chatting_content: `第${n}条消息`, ad_chatting_sate: 1, extra: { a: [1, 2, 3] } },
  };
}
const records = Array.from({ length: TOTAL }, (_, n) => record(n));
const batches = [];
for (let start = 0; start < TOTAL; start += BATCH) {
  const slice = records.slice(start, start + BATCH);
  batches.push({
    stream: STREAM,
    checkpointKey: 'bench/job',
    records: slice,
    checkpoint: { ...STREAM, position: { page: start + slice.length }, skip: 0 },
  });
}

/** What the bare-driver user binds per record. */
function values(r, mysqlTime) {
  const at = mysqlTime ? r.at.slice(0, 23).replace('T', ' ') : r.at;
  return [
    r.provider,
    r.account,
    r.id,
    r.customer,
    null,
    r.direction,
    r.kind,
    null,
    r.text,
    null,
    at,
    JSON.stringify(r.raw),
  ];
}

async function time(label, work) {
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  return { label, seconds, perSecond: TOTAL / seconds };
}

async function sqliteBare(path, table) {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000');
  const ddl = new DatabaseSink({ url: path, table, checkpointTable: `${table}_cp` });
  await ddl.migrate();
  await ddl.close();
  const rowSql = `(${COLUMNS.map(() => '?').join(',')})`;
  const statements = new Map();
  const insertFor = (count) => {
    if (!statements.has(count)) {
      statements.set(
        count,
        db.prepare(
          `INSERT INTO "${table}" (${COLUMNS.join(',')}) VALUES ${Array(count).fill(rowSql).join(',')} ON CONFLICT DO NOTHING`,
        ),
      );
    }
    return statements.get(count);
  };
  const checkpoint = db.prepare(
    `INSERT INTO "${table}_cp" (checkpoint_key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (checkpoint_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  );
  for (const batch of batches) {
    db.exec('BEGIN IMMEDIATE');
    insertFor(batch.records.length).run(...batch.records.flatMap((r) => values(r, false)));
    checkpoint.run(batch.checkpointKey, JSON.stringify(batch.checkpoint), new Date().toISOString());
    db.exec('COMMIT');
  }
  db.close();
}

async function postgresBare(url, table) {
  const ddl = new DatabaseSink({ url, table, checkpointTable: `${table}_cp` });
  await ddl.migrate();
  await ddl.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const batch of batches) {
    await client.query('BEGIN');
    const params = batch.records.flatMap((r) => values(r, false));
    const rows = batch.records.map((_, i) => `(${COLUMNS.map((_, c) => `$${i * COLUMNS.length + c + 1}`).join(',')})`);
    await client.query(
      `INSERT INTO "${table}" (${COLUMNS.join(',')}) VALUES ${rows.join(',')} ON CONFLICT DO NOTHING`,
      params,
    );
    await client.query(
      `INSERT INTO "${table}_cp" (checkpoint_key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (checkpoint_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [batch.checkpointKey, JSON.stringify(batch.checkpoint), new Date().toISOString()],
    );
    await client.query('COMMIT');
  }
  await client.end();
}

async function mysqlBare(url, table) {
  const ddl = new DatabaseSink({ url, table, checkpointTable: `${table}_cp` });
  await ddl.migrate();
  await ddl.close();
  const connection = await mysql.createConnection({ uri: url, charset: 'UTF8MB4_UNICODE_CI' });
  await connection.query("SET time_zone = '+00:00'");
  for (const batch of batches) {
    await connection.query('BEGIN');
    const rows = batch.records.map(() => `(${COLUMNS.map(() => '?').join(',')})`);
    await connection.query(
      `INSERT INTO \`${table}\` (${COLUMNS.join(',')}) VALUES ${rows.join(',')} ON DUPLICATE KEY UPDATE id = id`,
      batch.records.flatMap((r) => values(r, true)),
    );
    await connection.query(
      `INSERT INTO \`${table}_cp\` (checkpoint_key, value, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)`,
      [batch.checkpointKey, JSON.stringify(batch.checkpoint), new Date().toISOString().slice(0, 23).replace('T', ' ')],
    );
    await connection.query('COMMIT');
  }
  await connection.end();
}

async function viaSink(url, table) {
  const sink = new DatabaseSink({ url, table, checkpointTable: `${table}_cp` });
  await sink.migrate();
  for (const batch of batches) await sink.write(batch);
  await sink.close();
}

async function drop(dialect, url, tables) {
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${tables.map((t) => `"${t}"`).join(', ')}`);
    await client.end();
  } else if (dialect === 'mysql') {
    const connection = await mysql.createConnection({ uri: url });
    await connection.query(`DROP TABLE IF EXISTS ${tables.map((t) => `\`${t}\``).join(', ')}`);
    await connection.end();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'kefu-bench-'));
const targets = [
  { dialect: 'sqlite', url: join(dir, 'bench.db'), bare: sqliteBare },
  {
    dialect: 'postgres',
    url: process.env.KEFU_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    bare: postgresBare,
  },
  { dialect: 'mysql', url: process.env.KEFU_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test', bare: mysqlBare },
];
console.log(`${TOTAL} records, batches of ${BATCH}, one transaction per batch with its checkpoint`);
for (const target of targets) {
  const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  const bareTable = `bench_bare_${suffix}`;
  const sinkTable = `bench_sink_${suffix}`;
  try {
    // Three rounds, alternating which goes first, each on fresh tables; the median of each
    // side is reported, which keeps a busy machine from favouring one side.
    const bareRuns = [];
    const sinkRuns = [];
    for (let round = 0; round < 3; round++) {
      const bareRun = () => time('bare driver', () => target.bare(target.url, `${bareTable}_${round}`));
      const sinkRun = () => time('DatabaseSink', () => viaSink(target.url, `${sinkTable}_${round}`));
      if (round % 2 === 0) {
        bareRuns.push(await bareRun());
        sinkRuns.push(await sinkRun());
      } else {
        sinkRuns.push(await sinkRun());
        bareRuns.push(await bareRun());
      }
    }
    const median = (runs) => runs.map((run) => run.perSecond).sort((a, b) => a - b)[1];
    const bare = median(bareRuns);
    const sink = median(sinkRuns);
    console.log(
      `${target.dialect.padEnd(8)} bare ${bare.toFixed(0).padStart(7)} rec/s   sink ${sink.toFixed(0).padStart(7)} rec/s   sink/bare ${(sink / bare).toFixed(2)}`,
    );
  } catch (error) {
    console.log(`${target.dialect.padEnd(8)} skipped: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    const tables = [0, 1, 2].flatMap((round) =>
      [bareTable, sinkTable].flatMap((table) => [
        `${table}_${round}`,
        `${table}_${round}_cp`,
        `${table}_${round}_migrations`,
      ]),
    );
    await drop(target.dialect, target.url, tables).catch(() => undefined);
  }
}
rmSync(dir, { recursive: true, force: true });
