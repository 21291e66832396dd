import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { coreError } from './errors.js';
import { type KefuRecord, KefuRecordSchema, streamId } from './record.js';

/**
 * The push spool: where a pushed record is made durable before the platform is told
 * "stored". One SQLite file (`node:sqlite`, WAL, `synchronous=FULL`): a push's records
 * and its dedupe keys commit in one transaction, fsynced, before `append` resolves; the
 * drainer ({@link SpoolDrainer}) hands them to the sinks and deletes them only after every
 * sink acknowledged. SQLite rather than an append-only file because three things must be
 * atomic together and survive a `kill -9`: the queued records, the dedupe keys that make a
 * retried or replayed push a no-op (kept for a window, across restarts), and the deletion
 * of what the sinks took — a file would need its own index, compaction and torn-tail repair.
 * Appends arriving together share one commit (group commit), so a burst costs one fsync.
 */

/** Options of {@link PushSpool.open}. */
export interface PushSpoolOptions {
  /** The SQLite file (created 0600 with its directory); `:memory:` for tests that need no durability. */
  path: string;
  /**
   * How long a push's dedupe key and its records' ids are remembered, ms (default 7 days):
   * a retry, a replay or a backfill of the same record inside the window is stored once.
   */
  dedupeWindowMs?: number;
  /** The clock, ms (default Date.now). */
  now?: () => number;
}

/** One push to make durable. */
export interface SpoolEntry {
  /** Identity of the push across retries (see `PushDecision`). */
  dedupeKey: string;
  records: readonly KefuRecord[];
  /**
   * Media downloads the push's records need (the media archive): each is recorded in the same
   * commit as its record, so a crash cannot lose it; records already seen add none.
   */
  downloads?: readonly SpoolDownloadRequest[];
}

/** A media download to record with a push. */
export interface SpoolDownloadRequest {
  /** The media store key (unique: a second request with the same key is ignored). */
  key: string;
  /** The record naming the medium. */
  record: KefuRecord;
  /** When the medium can no longer be downloaded, ms (WeChat keeps media 3 days). */
  expiresAt: number;
}

/** A media download recorded and not yet done. */
export interface SpooledDownload {
  key: string;
  record: KefuRecord;
  /** Tries made so far (kept across restarts, so a crash loop cannot retry forever). */
  tries: number;
  expiresAt: number;
}

/** What {@link PushSpool.append} did. */
export interface SpoolAppendResult {
  /** The push's key was already accepted: nothing was written. */
  duplicate: boolean;
  /** Records queued for the sinks (records already seen are left out). */
  queued: number;
}

/** A queued record with its position in the spool. */
export interface SpooledRecord {
  seq: number;
  record: KefuRecord;
}

const DEFAULT_DEDUPE_WINDOW_MS = 7 * 24 * 3600 * 1000;
/** Prune expired dedupe keys at most this often. */
const PRUNE_EVERY_MS = 60_000;

interface PendingAppend {
  entry: SpoolEntry;
  resolve: (result: SpoolAppendResult) => void;
  reject: (error: unknown) => void;
}

/** The key under which a record's id is remembered (ids are unique per provider and account). */
export function recordSeenKey(record: Pick<KefuRecord, 'provider' | 'account' | 'id'>): string {
  return `record:${streamId(record)}/${record.id}`;
}

/**
 * A durable queue of pushed records with dedupe (see the module comment). Open it with
 * {@link PushSpool.open}; one process per file.
 */
export class PushSpool {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #statements: {
    markSeen: StatementSync;
    isSeen: StatementSync;
    enqueue: StatementSync;
    take: StatementSync;
    remove: StatementSync;
    depth: StatementSync;
    prune: StatementSync;
    recordDownload: StatementSync;
    downloads: StatementSync;
    downloadTried: StatementSync;
    downloadDone: StatementSync;
  };
  #pending: PendingAppend[] = [];
  #flushScheduled = false;
  #lastPrune = 0;
  #closed = false;
  readonly #listeners = new Set<() => void>();

  private constructor(path: string, db: DatabaseSync, options: PushSpoolOptions) {
    this.path = path;
    this.#db = db;
    this.#windowMs = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.#now = options.now ?? Date.now;
    this.#statements = {
      markSeen: db.prepare('INSERT OR IGNORE INTO seen (key, at) VALUES (?, ?)'),
      isSeen: db.prepare('SELECT 1 AS hit FROM seen WHERE key = ?'),
      enqueue: db.prepare('INSERT INTO queue (record) VALUES (?)'),
      take: db.prepare('SELECT seq, record FROM queue ORDER BY seq LIMIT ?'),
      remove: db.prepare('DELETE FROM queue WHERE seq <= ? AND seq >= ?'),
      depth: db.prepare('SELECT COUNT(*) AS n FROM queue'),
      prune: db.prepare('DELETE FROM seen WHERE at < ?'),
      recordDownload: db.prepare('INSERT OR IGNORE INTO downloads (key, record, tries, expires) VALUES (?, ?, 0, ?)'),
      downloads: db.prepare('SELECT key, record, tries, expires FROM downloads ORDER BY rowid LIMIT ?'),
      downloadTried: db.prepare('UPDATE downloads SET tries = tries + 1 WHERE key = ? RETURNING tries'),
      downloadDone: db.prepare('DELETE FROM downloads WHERE key = ?'),
    };
  }

  /** Opens (creating) the spool file; KEFU_SPOOL_FAILED says why it cannot. */
  static open(options: PushSpoolOptions): PushSpool {
    const { DatabaseSync: Database } = process.getBuiltinModule('node:sqlite');
    try {
      if (options.path !== ':memory:') {
        mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
        // Records are personal data: the spool is 0600 (SQLite gives -wal/-shm the same mode).
        closeSync(openSync(options.path, 'a', 0o600));
      }
      const db = new Database(options.path);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA busy_timeout = 5000');
      db.exec('CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL)');
      db.exec('CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID');
      db.exec('CREATE INDEX IF NOT EXISTS seen_at ON seen (at)');
      db.exec(
        'CREATE TABLE IF NOT EXISTS downloads (key TEXT PRIMARY KEY, record TEXT NOT NULL, tries INTEGER NOT NULL, expires INTEGER NOT NULL)',
      );
      return new PushSpool(options.path, db, options);
    } catch (cause) {
      throw coreError('KEFU_SPOOL_FAILED', `cannot open the push spool ${options.path}: ${(cause as Error).message}`, {
        cause,
        details: { path: options.path },
      });
    }
  }

  /**
   * Makes a push durable: resolves once its records and keys are committed and fsynced.
   * A push whose key was seen inside the window resolves `duplicate` and writes nothing;
   * records whose ids were seen are left out.
   */
  append(entry: SpoolEntry): Promise<SpoolAppendResult> {
    if (this.#closed) return Promise.reject(coreError('KEFU_SPOOL_FAILED', `the push spool ${this.path} is closed`));
    return new Promise((resolve, reject) => {
      this.#pending.push({ entry, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Calls `listener` after each commit that queued records (the drainer wakes on it). */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The oldest queued records, at most `limit`. */
  take(limit: number): SpooledRecord[] {
    const rows = this.#statements.take.all(limit) as Array<{ seq: number; record: string }>;
    return rows.map((row) => ({ seq: Number(row.seq), record: KefuRecordSchema.parse(JSON.parse(row.record)) }));
  }

  /** Deletes queued records with `first ≤ seq ≤ last` (after every sink acknowledged them). */
  remove(first: number, last: number): void {
    this.#statements.remove.run(last, first);
  }

  /** Records queued and not yet acknowledged by the sinks. */
  depth(): number {
    return Number((this.#statements.depth.get() as { n: number }).n);
  }

  /** True when the record's id was seen inside the window (pushed, or backfilled through {@link markSeen}). */
  hasSeen(record: Pick<KefuRecord, 'provider' | 'account' | 'id'>): boolean {
    return this.#statements.isSeen.get(recordSeenKey(record)) !== undefined;
  }

  /** Remembers records stored by another path (the backfill), so a later push of them is not stored again. */
  markSeen(records: readonly KefuRecord[]): void {
    if (records.length === 0) return;
    const at = this.#now();
    this.#transaction(() => {
      for (const record of records) this.#statements.markSeen.run(recordSeenKey(record), at);
    });
  }

  /** Media downloads recorded and not yet done, oldest first, at most `limit`. */
  pendingDownloads(limit: number): SpooledDownload[] {
    const rows = this.#statements.downloads.all(limit) as Array<{
      key: string;
      record: string;
      tries: number;
      expires: number;
    }>;
    return rows.map((row) => ({
      key: row.key,
      record: KefuRecordSchema.parse(JSON.parse(row.record)),
      tries: Number(row.tries),
      expiresAt: Number(row.expires),
    }));
  }

  /** Counts a try of a download (before it is made); returns the tries so far, 0 when it is not recorded. */
  downloadTried(key: string): number {
    const row = this.#statements.downloadTried.get(key) as { tries: number } | undefined;
    return row ? Number(row.tries) : 0;
  }

  /** Forgets a download: its file is stored, or it is given up. */
  downloadDone(key: string): void {
    this.#statements.downloadDone.run(key);
  }

  /** Cheap probe for readiness: the file answers a query. */
  check(): void {
    this.depth();
  }

  /** Commits what is pending, then closes the file; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#listeners.clear();
    if (this.#db.isOpen) this.#db.close();
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const results: SpoolAppendResult[] = [];
    try {
      const at = this.#now();
      this.#transaction(() => {
        for (const { entry } of batch) results.push(this.#appendOne(entry, at));
      });
    } catch (cause) {
      const error = coreError(
        'KEFU_SPOOL_FAILED',
        `cannot write to the push spool ${this.path}: ${(cause as Error).message}`,
        {
          cause,
          details: { path: this.path },
        },
      );
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const [index, pending] of batch.entries()) pending.resolve(results[index] as SpoolAppendResult);
    if (results.some((result) => result.queued > 0)) for (const listener of this.#listeners) listener();
    this.#pruneNowAndThen();
  }

  #appendOne(entry: SpoolEntry, at: number): SpoolAppendResult {
    const freshPush = Number(this.#statements.markSeen.run(`push:${entry.dedupeKey}`, at).changes) > 0;
    if (!freshPush) return { duplicate: true, queued: 0 };
    let queued = 0;
    const fresh = new Set<string>();
    for (const record of entry.records) {
      const seenKey = recordSeenKey(record);
      if (Number(this.#statements.markSeen.run(seenKey, at).changes) === 0) continue;
      this.#statements.enqueue.run(JSON.stringify(record));
      fresh.add(seenKey);
      queued += 1;
    }
    for (const download of entry.downloads ?? []) {
      if (!fresh.has(recordSeenKey(download.record))) continue;
      this.#statements.recordDownload.run(download.key, JSON.stringify(download.record), download.expiresAt);
    }
    return { duplicate: false, queued };
  }

  #transaction(work: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #pruneNowAndThen(): void {
    const now = this.#now();
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    this.#statements.prune.run(now - this.#windowMs);
  }
}
