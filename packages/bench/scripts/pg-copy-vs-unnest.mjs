// PostgreSQL insert paths on kefu's records table (same DDL and indexes), alternating in one
// process: the `unnest` INSERT the sink used before, COPY into a staging table + INSERT … SELECT
// … ON CONFLICT DO NOTHING, and COPY straight into the table inside a savepoint (what the sink
// does now; staging is its path for batches holding stored rows). 1 000 rows per transaction
// with a checkpoint upsert. Usage: node scripts/pg-copy-vs-unnest.mjs [rows=50000] [rounds=2]
// Environment: KEFU_TEST_POSTGRES_URL (default: the local server).

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const N = Number(process.argv[2] ?? 100000),
  BATCH = 1000,
  ROUNDS = Number(process.argv[3] ?? 3);
const client = new pg.Client({
  connectionString: process.env.KEFU_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
});
await client.connect();
const COLS = [
  'provider',
  'account',
  'id',
  'customer',
  'agent',
  'direction',
  'kind',
  'event',
  'text',
  'attachments',
  'at',
  'raw',
];
const TYPES = ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'timestamptz', 'jsonb'];
const ddl = (t) => [
  `DROP TABLE IF EXISTS ${t}`,
  `CREATE TABLE ${t} (provider VARCHAR(191) NOT NULL, account VARCHAR(191) NOT NULL, id VARCHAR(191) NOT NULL, customer VARCHAR(191) NOT NULL, agent VARCHAR(191) NULL, direction VARCHAR(32) NOT NULL, kind VARCHAR(32) NOT NULL, event VARCHAR(32) NULL, text TEXT NULL, attachments JSONB NULL, at TIMESTAMPTZ(3) NOT NULL, raw JSONB NOT NULL, inserted_at TIMESTAMPTZ(3) NOT NULL DEFAULT now(), PRIMARY KEY (provider, account, at, id))`,
  `CREATE INDEX ON ${t} (customer, at)`,
  `CREATE INDEX ON ${t} (at)`,
  `DROP TABLE IF EXISTS ${t}_cp`,
  `CREATE TABLE ${t}_cp (checkpoint_key VARCHAR(191) PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMPTZ(3) NOT NULL)`,
];
const hex = (i) => ((BigInt(i) * 0x9e3779b97f4a7c15n) % (1n << 128n)).toString(16).padStart(32, '0').slice(0, 32);
const customers = Array.from({ length: 5000 }, (_, i) => `oeAqnc9pGJHYR38nXKV${String(i).padStart(9, '0')}`);
const base = Date.UTC(2026, 0, 5);
function row(i) {
  const customer = customers[(i * 7919) % 5000];
  const text = `请提供一下您的手机号\t以便核实。${i}`;
  const t = Math.floor((base + i * 800) / 1000);
  return {
    provider: 'wechat-mp',
    account: 'wx84954a76d9241279',
    id: hex(i + 1),
    customer,
    agent: 'kf1003@kefuemu1',
    direction: 'outbound',
    kind: 'text',
    event: null,
    text,
    attachments: null,
    at: new Date(t * 1000 + (i % 1000)).toISOString(),
    raw: JSON.stringify({ openid: customer, opercode: 2002, text, time: t, worker: 'kf1003@kefuemu1' }),
  };
}
const unnestSql = (t) =>
  `insert into ${t} (${COLS.join(', ')}) select * from unnest(${COLS.map((_c, i) => `$${i + 1}::${TYPES[i]}[]`).join(', ')}) on conflict (provider, account, at, id) do nothing`;
const cpSql = (t) =>
  `insert into ${t}_cp (checkpoint_key, value, updated_at) values ($1, $2, $3) on conflict (checkpoint_key) do update set value = excluded.value, updated_at = excluded.updated_at`;
function copyEscape(v) {
  if (v === null) return '\\N';
  let s = v;
  if (/[\\\n\r\t]/.test(s))
    s = s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
  return s;
}
async function unnestBatch(t, rows) {
  await client.query('BEGIN');
  await client.query(
    unnestSql(t),
    COLS.map((c) => rows.map((r) => r[c])),
  );
  await client.query(cpSql(t), ['k', `v${rows[0].id}`, new Date().toISOString()]);
  await client.query('COMMIT');
}
async function copyBatch(t, rows) {
  await client.query('BEGIN');
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${t}_stage (LIKE ${t} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
  let text = '';
  for (const r of rows) {
    text += `${COLS.map((c) => copyEscape(r[c])).join('\t')}\n`;
  }
  await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${t}_stage (${COLS.join(', ')}) FROM STDIN`)));
  await client.query(
    `insert into ${t} (${COLS.join(', ')}) select ${COLS.join(', ')} from ${t}_stage on conflict (provider, account, at, id) do nothing`,
  );
  await client.query(cpSql(t), ['k', `v${rows[0].id}`, new Date().toISOString()]);
  await client.query('COMMIT');
}
async function directBatch(t, rows) {
  await client.query('BEGIN');
  await client.query('SAVEPOINT direct');
  let text = '';
  for (const r of rows) {
    text += `${COLS.map((c) => copyEscape(r[c])).join('\t')}\n`;
  }
  await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${t} (${COLS.join(', ')}) FROM STDIN`)));
  await client.query('RELEASE SAVEPOINT direct');
  await client.query(cpSql(t), ['k', `v${rows[0].id}`, new Date().toISOString()]);
  await client.query('COMMIT');
}
async function run(kind) {
  const t = `pgcopy_${process.pid}_${kind}`;
  for (const s of ddl(t)) await client.query(s);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let start = 0; start < N; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(N, start + BATCH); i++) rows.push(row(i));
    await (kind === 'copy' ? copyBatch(t, rows) : kind === 'direct' ? directBatch(t, rows) : unnestBatch(t, rows));
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const {
    rows: [{ count }],
  } = await client.query(`select count(*)::int as count from ${t}`);
  await client.query(`DROP TABLE ${t}`);
  await client.query(`DROP TABLE ${t}_cp`);
  return {
    kind,
    rowsPerS: Math.round((N / ms) * 1000),
    clientCpuUsPerRow: +((cpu.user + cpu.system) / N).toFixed(2),
    count,
  };
}
for (let r = 0; r < ROUNDS; r++)
  for (const k of r % 2 ? ['direct', 'copy', 'unnest'] : ['unnest', 'copy', 'direct'])
    console.log(JSON.stringify(await run(k)));
await client.end();
