/**
 * The bare scripts a competent engineer would write instead of kefu, run as a child
 * process by cli-bench.ts: read getmsglist pages of 10 000 (the API maximum) with
 * `fetch` + `JSON.parse`, one request at a time, and write each page before reading the
 * next — raw JSON lines (fsync per 1 000 lines, kefu's batch durability), or rows keyed in
 * time order into node:sqlite (WAL, synchronous=FULL, 64 MiB page cache), pg (`unnest`)
 * or mysql2 (multi-row VALUES), 1 000 rows per transaction, replays ignored.
 * Prints one JSON line `{ records }` when done.
 * Usage: node bare-sync.js '<BareTask as JSON>'
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { CEILING_PAGE_SIZE } from './scenario.js';

/** What one bare run does. */
export interface BareTask {
  target: 'jsonl' | 'sqlite' | 'postgres' | 'mysql';
  /** The emulator's WeChat base URL and account. */
  url: string;
  appId: string;
  secret: string;
  from: string;
  to: string;
  /** Output directory (JSONL, SQLite). */
  dir: string;
  /** Server URL and table (PostgreSQL, MySQL). */
  databaseUrl?: string;
  table: string;
}

type RawRecord = { openid: string; time: number; text: string; worker: string; opercode: number };

const ROWS_PER_TRANSACTION = 1000;
const DAY_SECONDS = 86_400;
const BEIJING_OFFSET_SECONDS = 8 * 3600;

async function json(url: URL, body?: unknown): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return JSON.parse(await response.text());
    } catch (error) {
      // A keep-alive connection the server closed as the request left: retry, as any script would.
      if (attempt >= 3) throw error;
    }
  }
}

/** Every page of the range: Beijing-day windows (getmsglist refuses more than 24 h), paged by msgid. */
async function* pages(task: BareTask): AsyncGenerator<RawRecord[]> {
  const token = (await json(
    new URL(`/cgi-bin/token?grant_type=client_credential&appid=${task.appId}&secret=${task.secret}`, task.url),
  )) as { access_token: string };
  const list = new URL(`/customservice/msgrecord/getmsglist?access_token=${token.access_token}`, task.url);
  const to = Math.ceil(Date.parse(task.to) / 1000);
  for (let start = Math.ceil(Date.parse(task.from) / 1000); start < to; ) {
    const end = Math.min(
      (Math.floor((start + BEIJING_OFFSET_SECONDS) / DAY_SECONDS) + 1) * DAY_SECONDS - BEIJING_OFFSET_SECONDS,
      to,
    );
    let previousLast = '';
    for (let msgid = 1; ; ) {
      const page = (await json(list, { starttime: start, endtime: end, msgid, number: CEILING_PAGE_SIZE })) as {
        recordlist: RawRecord[];
        msgid?: number;
      };
      const records = page.recordlist;
      // The next page starts with the previous page's last record (msgid is inclusive).
      yield records.length > 0 && JSON.stringify(records[0]) === previousLast ? records.slice(1) : records;
      if (records.length < CEILING_PAGE_SIZE || !page.msgid) break;
      previousLast = JSON.stringify(records.at(-1));
      msgid = page.msgid;
    }
    start = end;
  }
}

/** A time-ordered key: (account, at, id), id a cheap stable id of the record. */
function row(task: BareTask, record: RawRecord): [string, string, string, string, string] {
  const at = new Date(record.time * 1000).toISOString();
  const id = `${record.time}-${record.opercode}-${record.openid}-${record.text.length}-${record.worker}`;
  return [task.appId, at, id, record.openid, JSON.stringify(record)];
}

function* transactions<T>(items: readonly T[]): Generator<T[]> {
  for (let index = 0; index < items.length; index += ROWS_PER_TRANSACTION)
    yield items.slice(index, index + ROWS_PER_TRANSACTION);
}

/** The bare table: key fields and the raw record, keyed in time order. */
function tableDdl(table: string, types: { time: string; key: string; json: string }, extra = '', suffix = ''): string {
  const { time, key, json } = types;
  return `CREATE TABLE IF NOT EXISTS ${table} (
  account ${key} NOT NULL, at ${time} NOT NULL, id ${key} NOT NULL, customer ${key} NOT NULL, raw ${json} NOT NULL,
  PRIMARY KEY (account, at, id)${extra}) ${suffix}`;
}

async function jsonl(task: BareTask): Promise<number> {
  const file = await open(join(task.dir, 'bare.jsonl'), 'w');
  let count = 0;
  for await (const page of pages(task)) {
    for (const lines of transactions(page)) {
      await file.write(`${lines.map((record) => JSON.stringify(record)).join('\n')}\n`);
      await file.sync();
      count += lines.length;
    }
  }
  await file.close();
  return count;
}

async function sqlite(task: BareTask): Promise<number> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(join(task.dir, 'bare.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536');
  db.exec(tableDdl(task.table, { time: 'TEXT', key: 'TEXT', json: 'TEXT' }));
  db.exec(`CREATE INDEX IF NOT EXISTS ${task.table}_customer ON ${task.table} (customer, at)`);
  const statements = new Map<number, ReturnType<typeof db.prepare>>();
  const insert = (count: number) => {
    let statement = statements.get(count);
    if (!statement) {
      statement = db.prepare(
        `INSERT INTO ${task.table} VALUES ${new Array(count).fill('(?, ?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
      );
      statements.set(count, statement);
    }
    return statement;
  };
  let count = 0;
  for await (const page of pages(task)) {
    for (const records of transactions(page)) {
      const rows = records.map((record) => row(task, record));
      db.exec('BEGIN');
      for (let index = 0; index < rows.length; index += 500) {
        const chunk = rows.slice(index, index + 500);
        insert(chunk.length).run(...chunk.flat());
      }
      db.exec('COMMIT');
      count += rows.length;
    }
  }
  db.close();
  return count;
}

async function postgres(task: BareTask): Promise<number> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: task.databaseUrl });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${task.table}`);
  await client.query(tableDdl(task.table, { time: 'TIMESTAMPTZ(3)', key: 'VARCHAR(191)', json: 'JSONB' }));
  await client.query(`CREATE INDEX ON ${task.table} (customer, at)`);
  const insert = `INSERT INTO ${task.table} SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::jsonb[]) ON CONFLICT DO NOTHING`;
  let count = 0;
  for await (const page of pages(task)) {
    for (const records of transactions(page)) {
      const rows = records.map((record) => row(task, record));
      await client.query('BEGIN');
      await client.query(
        insert,
        [0, 1, 2, 3, 4].map((column) => rows.map((values) => values[column])),
      );
      await client.query('COMMIT');
      count += rows.length;
    }
  }
  await client.end();
  return count;
}

async function mysql(task: BareTask): Promise<number> {
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({ uri: task.databaseUrl ?? '' });
  await connection.query(`DROP TABLE IF EXISTS ${task.table}`);
  await connection.query(
    tableDdl(
      task.table,
      { time: 'DATETIME(3)', key: 'VARCHAR(191)', json: 'JSON' },
      ', KEY (customer, at)',
      'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    ),
  );
  let count = 0;
  for await (const page of pages(task)) {
    for (const records of transactions(page)) {
      const rows = records.map((record) => {
        const values = row(task, record);
        values[1] = values[1].slice(0, 23).replace('T', ' ');
        return values;
      });
      await connection.beginTransaction();
      await connection.query(`INSERT INTO ${task.table} VALUES ? ON DUPLICATE KEY UPDATE id = id`, [rows]);
      await connection.commit();
      count += rows.length;
    }
  }
  await connection.end();
  return count;
}

const task = JSON.parse(process.argv[2] ?? '{}') as BareTask;
const run = { jsonl, sqlite, postgres, mysql }[task.target];
const records = await run(task);
process.stdout.write(`${JSON.stringify({ records })}\n`);
