/**
 * Child process of the benchmarks: runs one measured task against the emulator and
 * prints one JSON line with its figures and its own peak RSS. Each task runs in a fresh
 * process so the peak RSS and the JIT state of one task never leak into another, and
 * imports only what it uses (a sync into a file does not load database drivers).
 * Usage: node bench-worker.js '<WorkerTask as JSON>'
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckpointStore, KefuRecord, RecordBatch, RecordSink } from '@kefu/core';
import { firstZodIssue } from '@kefu/core';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { benchError } from './errors.js';
import { CEILING_PAGE_SIZE } from './scenario.js';

/** Where the emulator is and which account to read. */
const SourceSchema = z.object({
  url: z.string().url(),
  appId: z.string().min(1),
  secret: z.string().min(1),
  from: z.string(),
  to: z.string(),
});

/** The sinks a kefu sync task can write to. */
export const SinkKindSchema = z.enum(['null', 'slow', 'jsonl', 'sqlite', 'postgres', 'mysql']);
/** A sink kind of {@link SinkKindSchema}. */
export type SinkKind = z.infer<typeof SinkKindSchema>;

/** One task of the worker. */
export const WorkerTaskSchema = z.discriminatedUnion('task', [
  SourceSchema.extend({ task: z.literal('fetch') }),
  SourceSchema.extend({
    task: z.literal('kefu'),
    sink: SinkKindSchema,
    databaseUrl: z.string().optional(),
    table: z.string().optional(),
    batchSize: z.number().int().positive(),
    validate: z.boolean(),
    /** getmsglist records per request (default: the provider's). */
    pageSize: z.number().int().positive().optional(),
    /** Pages fetched ahead of the sinks (default: the pipeline's). */
    prefetchPages: z.number().int().positive().optional(),
    /** Delay of the `slow` sink per batch. */
    slowBatchMs: z.number().nonnegative().optional(),
  }),
  SourceSchema.extend({
    task: z.literal('insert'),
    dialect: z.enum(['sqlite', 'postgres', 'mysql']),
    databaseUrl: z.string().optional(),
    table: z.string(),
    batchSize: z.number().int().positive(),
  }),
  SourceSchema.extend({ task: z.literal('stages') }),
  SourceSchema.extend({
    task: z.literal('naive'),
    /** Stop after this long and report the rate so far (the naive loop can take very long). */
    budgetMs: z.number().int().positive(),
  }),
]);
/** A task given to the worker. */
export type WorkerTask = z.infer<typeof WorkerTaskSchema>;

/** What the worker prints. */
export interface WorkerResult {
  records: number;
  /** Wall time of the measured part. */
  ms: number;
  /** CPU time (user + system, all threads) of the measured part, ms. */
  cpuMs?: number;
  pages?: number;
  retries?: number;
  /** Peak resident set size of the worker process, MiB. */
  maxRssMiB: number;
  /** The naive task ran out of its time budget before reading everything. */
  truncated?: boolean;
  /** The stages task: milliseconds spent in each per-record stage over all records. */
  stages?: Record<string, number>;
}

const MsgListSchema = z.object({
  errcode: z.number().optional(),
  recordlist: z.array(
    z.object({ openid: z.string(), opercode: z.number(), text: z.string(), time: z.number(), worker: z.string() }),
  ),
  msgid: z.number().optional(),
});
type RawRecord = z.infer<typeof MsgListSchema>['recordlist'][number];

const DAY_SECONDS = 86_400;
const BEIJING_OFFSET_SECONDS = 8 * 3600;

/**
 * The records of a getmsglist page that the previous page did not end with: the emulator's
 * default reading (inclusive bound, last id answered) starts every later page with the
 * previous page's last record. The bare readers below follow the answered msgid like kefu.
 */
function freshRecords<T>(list: T[], previousLast: T | undefined): T[] {
  if (previousLast === undefined || list.length === 0) return list;
  return JSON.stringify(list[0]) === JSON.stringify(previousLast) ? list.slice(1) : list;
}

/** Beijing-day windows of `[from, to)` in unix seconds (getmsglist refuses ranges over 24 h). */
function* dayWindows(from: number, to: number): Generator<{ start: number; end: number }> {
  for (let start = from; start < to; ) {
    const boundary =
      (Math.floor((start + BEIJING_OFFSET_SECONDS) / DAY_SECONDS) + 1) * DAY_SECONDS - BEIJING_OFFSET_SECONDS;
    const end = Math.min(boundary, to);
    yield { start, end };
    start = end;
  }
}

/** A bare undici reader of getmsglist pages: the fetch ceiling and the source of the insert ceiling. */
class BareMsgListReader {
  readonly #agent = new Agent({ connections: 1 });
  #token = '';

  constructor(private readonly source: z.infer<typeof SourceSchema>) {}

  /** Bodies of the pages as text, when the stages task keeps them. */
  readonly texts: string[] = [];
  keepTexts = false;

  async #json(path: string, body?: unknown): Promise<unknown> {
    const response = await request(new URL(path, this.source.url), {
      method: body === undefined ? 'GET' : 'POST',
      dispatcher: this.#agent,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.body.text();
    if (this.keepTexts && body !== undefined) this.texts.push(text);
    return JSON.parse(text);
  }

  /** Every page of the range, one request at a time (pages of 10 000, the API maximum). */
  async *pages(): AsyncGenerator<RawRecord[]> {
    const { appId, secret } = this.source;
    const token = (await this.#json(
      `/cgi-bin/token?grant_type=client_credential&appid=${encodeURIComponent(appId)}&secret=${encodeURIComponent(secret)}`,
    )) as { access_token: string };
    this.#token = token.access_token;
    const from = Math.ceil(Date.parse(this.source.from) / 1000);
    const to = Math.ceil(Date.parse(this.source.to) / 1000);
    for (const window of dayWindows(from, to)) {
      let previousLast: RawRecord | undefined;
      for (let msgid = 1; ; ) {
        const body = (await this.#json(`/customservice/msgrecord/getmsglist?access_token=${this.#token}`, {
          starttime: window.start,
          endtime: window.end,
          msgid,
          number: CEILING_PAGE_SIZE,
        })) as { recordlist?: RawRecord[]; msgid?: number; errcode?: number; errmsg?: string };
        if (!Array.isArray(body.recordlist)) {
          throw benchError('BENCH_CHILD_FAILED', `getmsglist answered ${JSON.stringify(body).slice(0, 200)}`);
        }
        yield freshRecords(body.recordlist, previousLast);
        if (body.recordlist.length < CEILING_PAGE_SIZE || !body.msgid) break;
        previousLast = body.recordlist.at(-1);
        msgid = body.msgid;
      }
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Peak RSS of this process so far, MiB (`maxRSS` is in KiB). */
function maxRssMiB(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** CPU time of this process since `start`, ms. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return Math.round((used.user + used.system) / 1000);
}

/** Fetch ceiling: pages with bare undici + JSON.parse, nothing else. */
async function fetchTask(task: Extract<WorkerTask, { task: 'fetch' }>): Promise<WorkerResult> {
  const reader = new BareMsgListReader(task);
  const started = performance.now();
  const cpu = process.cpuUsage();
  let records = 0;
  let pages = 0;
  for await (const page of reader.pages()) {
    records += page.length;
    pages += 1;
  }
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  await reader.close();
  return { records, pages, ms, cpuMs, maxRssMiB: maxRssMiB() };
}

/** A sink that acknowledges at once (`null`) or after a fixed delay per batch (`slow`). */
class DelaySink implements RecordSink {
  readonly id = 'delay';
  readonly guarantee = 'at-least-once' as const;
  constructor(private readonly delayMs: number) {}
  async write(_batch: RecordBatch): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }
  async close(): Promise<void> {}
}

/** Times one stage over every item. */
function timeStage<T>(items: readonly T[], stage: (item: T) => unknown): number {
  const started = performance.now();
  for (const item of items) stage(item);
  return performance.now() - started;
}

/**
 * Where the per-record time of the WeChat path goes: each stage the provider and the
 * record stream apply, timed alone over the same pages (fetched first, not timed), with
 * the zod schemas the fast checks stand in for.
 */
async function stagesTask(task: Extract<WorkerTask, { task: 'stages' }>): Promise<WorkerResult> {
  const { isPlainValidRecord, KefuRecordSchema } = await import('@kefu/core');
  const wechat = await import('@kefu/wechat-mp/wire');
  const { isCanonicalRawRecord, normalizeRecord, OccurrenceCounter, parsePlatformJson, RawRecordSchema } = wechat;
  const { recordIdentity, recordId } = wechat;
  const reader = new BareMsgListReader(task);
  reader.keepTexts = true;
  const raws: RawRecord[] = [];
  for await (const page of reader.pages()) raws.push(...page);
  await reader.close();
  const texts = reader.texts;
  const counter = new OccurrenceCounter();
  const normalized = raws.map((raw) => {
    const identity = recordIdentity(task.appId, raw);
    return normalizeRecord(task.appId, raw, raw, counter.next(identity, raw.time), identity);
  });
  const identities = raws.map((raw) => recordIdentity(task.appId, raw));
  // Warm-up so every stage runs optimized code, as in a long sync.
  for (const record of normalized.slice(0, 2000)) KefuRecordSchema.safeParse(record);
  const stages: Record<string, number> = {
    'JSON.parse of the page bodies': timeStage(texts, (text) => JSON.parse(text)),
    'parsePlatformJson (fast path + repair when needed)': timeStage(texts, (text) => parsePlatformJson(text)),
    'isCanonicalRawRecord (wechat-mp fast check)': timeStage(raws, (raw) => isCanonicalRawRecord(raw)),
    'RawRecordSchema (wechat-mp zod, its fallback)': timeStage(raws, (raw) => RawRecordSchema.safeParse(raw)),
    'identity + id (JSON, sha256)': timeStage(raws, (raw) => recordId(recordIdentity(task.appId, raw), 0)),
    'normalizeRecord (identity given)': timeStage(raws, (raw) =>
      normalizeRecord(task.appId, raw, raw, 0, identities[0] as string),
    ),
    'isPlainValidRecord (core fast check)': timeStage(normalized, (record) => isPlainValidRecord(record)),
    'KefuRecordSchema (core zod, its fallback)': timeStage(normalized, (record) => KefuRecordSchema.safeParse(record)),
  };
  return { records: raws.length, ms: 0, stages, maxRssMiB: maxRssMiB() };
}

/** End-to-end: WechatMpProvider → runSync → one sink, as a user would run it. */
async function kefuTask(task: Extract<WorkerTask, { task: 'kefu' }>): Promise<WorkerResult> {
  const { MemoryCheckpointStore, runSync } = await import('@kefu/core');
  const { WechatMpProvider } = await import('@kefu/wechat-mp');
  const provider = new WechatMpProvider(
    {
      accounts: [{ appId: task.appId, secret: task.secret }],
      baseUrl: task.url,
      ...(task.pageSize ? { pageSize: task.pageSize } : {}),
    },
    { streamOptions: { validate: task.validate } },
  );
  const scratch = mkdtempSync(join(tmpdir(), 'kefu-bench-'));
  let sink: RecordSink;
  let checkpoints: CheckpointStore = new MemoryCheckpointStore();
  switch (task.sink) {
    case 'null':
      sink = new DelaySink(0);
      break;
    case 'slow':
      sink = new DelaySink(task.slowBatchMs ?? 0);
      break;
    case 'jsonl': {
      const { FileSink } = await import('@kefu/sink-file');
      sink = new FileSink({ dir: scratch });
      break;
    }
    default: {
      const { DatabaseSink } = await import('@kefu/sink-db');
      const url = task.sink === 'sqlite' ? `sqlite://${join(scratch, 'records.db')}` : task.databaseUrl;
      if (!url || !task.table)
        throw benchError('BENCH_OPTIONS_INVALID', `a ${task.sink} sync needs databaseUrl and table`);
      const database = new DatabaseSink({ url, table: task.table, checkpointTable: `${task.table}_cp` });
      // The sink commits records and checkpoint in one transaction: its exactly-once path.
      sink = database;
      checkpoints = database;
    }
  }
  const started = performance.now();
  const cpu = process.cpuUsage();
  const run = runSync({
    targets: [{ provider, account: task.appId }],
    sinks: [sink],
    checkpoints,
    from: new Date(task.from),
    to: new Date(task.to),
    batchSize: task.batchSize,
    ...(task.prefetchPages ? { prefetchPages: task.prefetchPages } : {}),
  });
  const summary = await run.done;
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  await sink.close();
  await provider.close?.();
  rmSync(scratch, { recursive: true, force: true });
  const target = summary.targets[0];
  if (target?.status !== 'done') {
    throw benchError('BENCH_CHILD_FAILED', `sync ended ${target?.status}: ${String(target?.error)}`);
  }
  return {
    records: summary.records,
    pages: target.pages,
    retries: target.retries,
    ms,
    cpuMs,
    maxRssMiB: maxRssMiB(),
  };
}

/**
 * The database sink's row for a record, encoded the way the sink encodes it (without its
 * checks), in the sink's own column order.
 */
function rowOf(record: KefuRecord, dialect: 'sqlite' | 'postgres' | 'mysql', columns: readonly string[]): unknown[] {
  const values: Record<string, unknown> = {
    provider: record.provider,
    account: record.account,
    id: record.id,
    customer: record.customer,
    agent: record.agent ?? null,
    direction: record.direction,
    kind: record.kind,
    event: record.event ?? null,
    text: record.text ?? null,
    attachments: null,
    at: dialect === 'mysql' ? record.at.slice(0, 23).replace('T', ' ') : record.at,
    raw: JSON.stringify(record.raw),
  };
  return columns.map((column) => values[column]);
}

type InsertTask = Extract<WorkerTask, { task: 'insert' }>;

/** One driver's batch insert and its teardown. */
interface BareInserter {
  insertBatch(rows: unknown[][]): Promise<void>;
  close(): Promise<void>;
}

/** What every driver needs to create the tables and build its INSERTs. */
interface BareInserterSetup {
  ddl: readonly string[];
  /** The record columns, comma-separated. */
  columns: string;
  width: number;
  checkpointsTable: string;
  /** A scratch directory (the SQLite file lives there). */
  scratch: string;
}

/** Opens the task's database with its bare driver; the three drivers side by side keep their timings comparable. */
function openBareInserter(task: InsertTask, setup: BareInserterSetup): Promise<BareInserter> {
  if (task.dialect === 'sqlite') return openSqliteInserter(task, setup);
  if (task.dialect === 'postgres') return openPostgresInserter(task, setup);
  return openMysqlInserter(task, setup);
}

/** node:sqlite with the sink's settings; one prepared statement per batch size. */
async function openSqliteInserter(task: InsertTask, setup: BareInserterSetup): Promise<BareInserter> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(join(setup.scratch, 'ceiling.db'));
  // The sink's settings: WAL, fsync at every commit.
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  for (const statement of setup.ddl) db.exec(statement);
  const statements = new Map<number, ReturnType<typeof db.prepare>>();
  const insertBatch: BareInserter['insertBatch'] = async (rows) => {
    let statement = statements.get(rows.length);
    if (!statement) {
      const tuple = `(${new Array(setup.width).fill('?').join(', ')})`;
      statement = db.prepare(
        `INSERT INTO "${task.table}" (${setup.columns}) VALUES ${new Array(rows.length).fill(tuple).join(', ')}`,
      );
      statements.set(rows.length, statement);
    }
    db.exec('BEGIN');
    statement.run(...(rows.flat() as Array<string | null>));
    db.exec('COMMIT');
  };
  const close = async () => db.close();
  return { insertBatch, close };
}

/** pg, numbered placeholders. */
async function openPostgresInserter(task: InsertTask, setup: BareInserterSetup): Promise<BareInserter> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: task.databaseUrl });
  await client.connect();
  for (const statement of setup.ddl) await client.query(statement);
  const insertBatch: BareInserter['insertBatch'] = async (rows) => {
    const values = rows.map(
      (_, r) => `(${Array.from({ length: setup.width }, (_, c) => `$${r * setup.width + c + 1}`).join(', ')})`,
    );
    await client.query('BEGIN');
    await client.query(`INSERT INTO "${task.table}" (${setup.columns}) VALUES ${values.join(', ')}`, rows.flat());
    await client.query('COMMIT');
  };
  const close = async () => {
    for (const table of [task.table, setup.checkpointsTable]) await client.query(`DROP TABLE IF EXISTS "${table}"`);
    await client.end();
  };
  return { insertBatch, close };
}

/** mysql2, the nested-array VALUES form. */
async function openMysqlInserter(task: InsertTask, setup: BareInserterSetup): Promise<BareInserter> {
  const { default: mysql } = await import('mysql2/promise');
  const connection = await mysql.createConnection({ uri: task.databaseUrl, timezone: '+00:00' });
  for (const statement of setup.ddl) await connection.query(statement);
  const insertBatch: BareInserter['insertBatch'] = async (rows) => {
    await connection.beginTransaction();
    await connection.query(`INSERT INTO \`${task.table}\` (${setup.columns}) VALUES ?`, [rows]);
    await connection.commit();
  };
  const close = async () => {
    for (const table of [task.table, setup.checkpointsTable])
      await connection.query(`DROP TABLE IF EXISTS \`${table}\``);
    await connection.end();
  };
  return { insertBatch, close };
}

/** Bare-driver insert ceiling: the same rows, multi-row INSERTs, one transaction per batch. Only inserts are timed. */
async function insertTask(task: InsertTask): Promise<WorkerResult> {
  const names = {
    schema: undefined,
    records: task.table,
    checkpoints: `${task.table}_cp`,
    migrations: `${task.table}_m`,
  };
  const { RECORD_COLUMNS, schemaStatements } = await import('@kefu/sink-db');
  const { normalizeRecord, OccurrenceCounter, recordIdentity } = await import('@kefu/wechat-mp/wire');
  const scratch = mkdtempSync(join(tmpdir(), 'kefu-bench-'));
  const { insertBatch, close } = await openBareInserter(task, {
    ddl: schemaStatements(task.dialect, names),
    columns: RECORD_COLUMNS.join(', '),
    width: RECORD_COLUMNS.length,
    checkpointsTable: names.checkpoints,
    scratch,
  });
  const reader = new BareMsgListReader(task);
  let records = 0;
  let insertMs = 0;
  let currentDay = -1;
  let counter: InstanceType<typeof OccurrenceCounter> = new OccurrenceCounter();
  for await (const page of reader.pages()) {
    const rows: unknown[][] = [];
    for (const raw of page) {
      // Ids as the provider derives them (occurrences counted per Beijing day).
      const day = Math.floor((raw.time + BEIJING_OFFSET_SECONDS) / DAY_SECONDS);
      if (day !== currentDay) {
        currentDay = day;
        counter = new OccurrenceCounter();
      }
      const identity = recordIdentity(task.appId, raw);
      rows.push(
        rowOf(
          normalizeRecord(task.appId, raw, raw, counter.next(identity, raw.time), identity),
          task.dialect,
          RECORD_COLUMNS,
        ),
      );
    }
    for (let offset = 0; offset < rows.length; offset += task.batchSize) {
      const batch = rows.slice(offset, offset + task.batchSize);
      const started = performance.now();
      await insertBatch(batch);
      insertMs += performance.now() - started;
      records += batch.length;
    }
  }
  await reader.close();
  await close();
  rmSync(scratch, { recursive: true, force: true });
  return { records, ms: insertMs, maxRssMiB: maxRssMiB() };
}

/**
 * fetch() with one retry: while the naive loop spends seconds inserting a page, the server
 * closes the idle keep-alive socket and the next fetch may meet "other side closed".
 */
async function fetchOnceMore(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return await fetch(url, init);
  }
}

/** The naive baseline: one page at a time with fetch(), one autocommitted INSERT per record into SQLite. */
async function naiveTask(task: Extract<WorkerTask, { task: 'naive' }>): Promise<WorkerResult> {
  const { DatabaseSync } = await import('node:sqlite');
  const scratch = mkdtempSync(join(tmpdir(), 'kefu-bench-'));
  const db = new DatabaseSync(join(scratch, 'naive.db'));
  db.exec('CREATE TABLE records (id TEXT PRIMARY KEY, customer TEXT, at TEXT, raw TEXT)');
  const insert = db.prepare('INSERT INTO records (id, customer, at, raw) VALUES (?, ?, ?, ?)');
  const started = performance.now();
  const token = (await (
    await fetch(`${task.url}/cgi-bin/token?grant_type=client_credential&appid=${task.appId}&secret=${task.secret}`)
  ).json()) as { access_token: string };
  let records = 0;
  let pages = 0;
  let truncated = false;
  const from = Math.ceil(Date.parse(task.from) / 1000);
  const to = Math.ceil(Date.parse(task.to) / 1000);
  outer: for (const window of dayWindows(from, to)) {
    let previousLast: RawRecord | undefined;
    for (let msgid = 1; ; ) {
      const response = await fetchOnceMore(
        `${task.url}/customservice/msgrecord/getmsglist?access_token=${token.access_token}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ starttime: window.start, endtime: window.end, msgid, number: CEILING_PAGE_SIZE }),
        },
      );
      const body = MsgListSchema.parse(await response.json());
      pages += 1;
      for (const raw of freshRecords(body.recordlist, previousLast)) {
        insert.run(`${raw.openid}#${records}`, raw.openid, String(raw.time), JSON.stringify(raw));
        records += 1;
        if ((records & 1023) === 0 && performance.now() - started > task.budgetMs) {
          truncated = true;
          break outer;
        }
      }
      if (body.recordlist.length < CEILING_PAGE_SIZE || !body.msgid) break;
      previousLast = body.recordlist.at(-1);
      msgid = body.msgid;
    }
  }
  const ms = performance.now() - started;
  db.close();
  rmSync(scratch, { recursive: true, force: true });
  return { records, pages, ms, truncated, maxRssMiB: maxRssMiB() };
}

const parsed = WorkerTaskSchema.safeParse(JSON.parse(process.argv[2] ?? '{}'));
if (!parsed.success) {
  throw benchError('BENCH_OPTIONS_INVALID', `worker task: ${firstZodIssue(parsed.error)}`);
}
const task = parsed.data;
const result =
  task.task === 'fetch'
    ? await fetchTask(task)
    : task.task === 'kefu'
      ? await kefuTask(task)
      : task.task === 'insert'
        ? await insertTask(task)
        : task.task === 'stages'
          ? await stagesTask(task)
          : await naiveTask(task);
process.stdout.write(`${JSON.stringify(result)}\n`);
