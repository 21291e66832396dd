import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  diskFullPrefix,
  encodeJsonLines,
  encodeUtf8Lines,
  isDiskFull,
  isKefuError,
  type KefuLogger,
  type KefuRecord,
  type RecordBatch,
  type RecordSink,
  silentLogger,
  sinkClosedError,
} from '@kefu/core';
import { validPrefix } from './crash-repair.js';
import { type FileSinkErrorCode, fileSinkError } from './errors.js';
import { buildGzipMember } from './gzip-members.js';
import { IntervalSyncScheduler } from './interval-sync-scheduler.js';
import { DayFormatter, OutputPathTemplate, type OutputPathValues } from './output-path-template.js';
import { CSV_HEADER, csvRow } from './record-serializers.js';
import {
  defaultPathTemplate,
  type FileSinkConfig,
  type FileSinkConfigInput,
  parseFileSinkConfig,
} from './sink-file-config.js';

/** Runtime collaborators of a {@link FileSink}. */
export interface FileSinkDependencies {
  logger?: KefuLogger;
}

/** Counters every sink reports (records and bytes out, batches, repairs). */
export interface FileSinkStats {
  batches: number;
  records: number;
  /** Bytes appended on disk (compressed when gzip is on). */
  bytes: number;
  /** Torn tails cut off when reopening files after a crash. */
  repairs: number;
}

interface OpenFile {
  seriesKey: string;
  path: string;
  part: number;
  handle: FileHandle;
  /** Bytes on disk that belong to acknowledged or in-flight appends. */
  size: number;
  /** Set once fsynced (unless fsync is `none`) and closed. */
  closed: boolean;
}

interface TargetGroup {
  seriesKey: string;
  values: OutputPathValues;
  records: KefuRecord[];
}

/** A target's records, serialized (and compressed) into the bytes to append. */
interface EncodedGroup extends TargetGroup {
  payload: Buffer;
}

const MAX_PARTS = 100_000;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** fsyncs a directory so a newly created file's name survives a power loss. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Appends record batches to JSON Lines (default) or CSV files, optionally gzipped, in
 * paths templated by provider, account and day, rotating by size with `{part}`.
 *
 * Each batch is serialized once into one buffer per target file and appended with one
 * write; `write` resolves after the fsync its policy requires. Files left with a torn
 * tail by a crash are repaired when reopened. Writes are applied in call order.
 *
 * @example
 * ```ts
 * const sink = new FileSink({ dir: './archive', format: 'jsonl', timeZone: 'Asia/Shanghai' });
 * await sink.write(batch); // durable on disk now
 * await sink.close();
 * ```
 */
export class FileSink implements RecordSink {
  /** Instance id. */
  readonly id: string;
  /** A replayed batch is appended again: readers deduplicate by record id. */
  readonly guarantee = 'at-least-once' as const;
  /** The validated configuration. */
  readonly config: FileSinkConfig;

  readonly #template: OutputPathTemplate;
  readonly #days: DayFormatter;
  readonly #logger: KefuLogger;
  readonly #scheduler: IntervalSyncScheduler | undefined;
  /** Open files by series key, least recently used first. */
  readonly #files = new Map<string, OpenFile>();
  readonly #stats: FileSinkStats = { batches: 0, records: 0, bytes: 0, repairs: 0 };
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(config: FileSinkConfigInput, dependencies: FileSinkDependencies = {}) {
    this.config = parseFileSinkConfig(config);
    this.id = this.config.id;
    this.#template = new OutputPathTemplate(this.config.dir, this.config.path ?? defaultPathTemplate(this.config));
    this.#days = new DayFormatter(this.config.timeZone);
    this.#logger = (dependencies.logger ?? silentLogger).child({ sink: this.id });
    this.#scheduler =
      this.config.fsync === 'interval' ? new IntervalSyncScheduler(this.config.fsyncIntervalMs) : undefined;
  }

  /** A snapshot of the counters. */
  get stats(): FileSinkStats {
    return { ...this.#stats };
  }

  /** Appends the batch; resolves once it is on disk as the fsync policy requires. */
  write(batch: RecordBatch): Promise<void> {
    if (this.#closing) return Promise.reject(sinkClosedError(`file sink ${this.id}`));
    if (batch.records.length === 0) return Promise.resolve();
    // Encoding (and compression, on the thread pool) starts now, outside the queue, so it
    // overlaps the previous batch's write and fsync.
    const encoded = Promise.all(this.#group(batch.records).map((group) => this.#encode(group)));
    encoded.catch(() => undefined); // handled when the queue reaches this batch
    // Appends run one at a time, in call order; the interval fsync wait happens outside
    // the queue so later batches can append while earlier ones wait for the same fsync.
    const appended = this.#queue.then(async () => this.#appendBatch(await encoded));
    this.#queue = appended.catch(() => undefined);
    return appended.then(async (files) => {
      await this.#scheduler?.waitForSync(files);
      this.#stats.batches += 1;
      this.#stats.records += batch.records.length;
    });
  }

  /** Waits for pending writes, fsyncs and closes every file; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#queue;
      await this.#scheduler?.flushNow().catch(() => undefined);
      const files = [...this.#files.values()];
      this.#files.clear();
      await Promise.all(files.map((file) => this.#closeFile(file)));
    })();
    return this.#closing;
  }

  #group(records: readonly KefuRecord[]): TargetGroup[] {
    const bySeries = new Map<string, TargetGroup>();
    // Records of a batch share a few (provider, account, day) values: render each path once.
    const byValues = new Map<string, TargetGroup>();
    // Records come in time order: most share the previous record's values, which skips the
    // key and its lookup (a string built and hashed per record).
    let last: { provider: string; account: string; day: string; group: TargetGroup } | undefined;
    for (const record of records) {
      const day = this.#days.dayOf(record.at);
      if (last && last.day === day && last.provider === record.provider && last.account === record.account) {
        last.group.records.push(record);
        continue;
      }
      const valuesKey = `${record.provider}\u0000${record.account}\u0000${day}`;
      let group = byValues.get(valuesKey);
      if (!group) {
        const values = { provider: record.provider, account: record.account, day };
        const seriesKey = this.#template.seriesKey(values);
        group = bySeries.get(seriesKey);
        if (!group) {
          group = { seriesKey, values, records: [] };
          bySeries.set(seriesKey, group);
        }
        byValues.set(valuesKey, group);
      }
      group.records.push(record);
      last = { provider: record.provider, account: record.account, day, group };
    }
    return [...bySeries.values()];
  }

  /** Serializes one target's records once (and compresses them into one gzip member). */
  async #encode(group: TargetGroup): Promise<EncodedGroup> {
    const body = this.config.format === 'csv' ? encodeUtf8Lines(group.records, csvRow) : encodeJsonLines(group.records);
    return { ...group, payload: this.config.gzip ? await buildGzipMember(body) : body };
  }

  async #appendBatch(groups: readonly EncodedGroup[]): Promise<OpenFile[]> {
    const written: OpenFile[] = [];
    for (const group of groups) {
      const { payload } = group;
      let file = await this.#fileFor(group);
      const { maxBytes } = this.config;
      // A batch is never split across parts: a part may exceed maxBytes by one batch.
      if (maxBytes !== undefined && file.size > 0 && file.size + payload.length > maxBytes)
        file = await this.#openNextPart(file, group.values);
      const data =
        file.size === 0 && this.config.format === 'csv' ? Buffer.concat([await this.#csvHeader(), payload]) : payload;
      await this.#append(file, data);
      written.push(file);
    }
    if (this.config.fsync === 'batch') {
      try {
        // A file evicted during this batch was fsynced when it was closed.
        await Promise.all(written.filter((file) => !file.closed).map((file) => file.handle.datasync()));
      } catch (cause) {
        throw fileFailure('SINK_FILE_SYNC_FAILED', `fsync failed for ${written.map((f) => f.path).join(', ')}`, cause);
      }
    }
    return written;
  }

  async #csvHeader(): Promise<Buffer> {
    const header = Buffer.from(CSV_HEADER, 'utf8');
    return this.config.gzip ? buildGzipMember(header) : header;
  }

  async #append(file: OpenFile, data: Buffer): Promise<void> {
    try {
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await file.handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
      file.size += data.length;
      this.#stats.bytes += data.length;
    } catch (cause) {
      // Roll the partial append back so the next batch does not glue onto a torn line;
      // if even that fails, drop the handle: reopening repairs the tail.
      await file.handle.truncate(file.size).catch(async () => {
        this.#files.delete(file.seriesKey);
        file.closed = true;
        await file.handle.close().catch(() => undefined);
      });
      throw fileFailure('SINK_FILE_WRITE_FAILED', `appending ${data.length} bytes to ${file.path} failed`, cause);
    }
  }

  async #fileFor(group: TargetGroup): Promise<OpenFile> {
    const cached = this.#files.get(group.seriesKey);
    if (cached) {
      this.#files.delete(group.seriesKey);
      this.#files.set(group.seriesKey, cached);
      return cached;
    }
    let part = 0;
    if (this.#template.hasPart) {
      // Continue the newest existing part (after a restart), or start at 0.
      while (part < MAX_PARTS && (await exists(this.#template.render(group.values, part + 1)))) part += 1;
    }
    let file = await this.#openFile(group.seriesKey, group.values, part);
    if (this.config.maxBytes !== undefined && file.size >= this.config.maxBytes)
      file = await this.#openNextPart(file, group.values);
    return file;
  }

  async #openNextPart(file: OpenFile, values: OutputPathValues): Promise<OpenFile> {
    this.#files.delete(file.seriesKey);
    await this.#closeFile(file);
    return this.#openFile(file.seriesKey, values, file.part + 1);
  }

  async #openFile(seriesKey: string, values: OutputPathValues, part: number): Promise<OpenFile> {
    while (this.#files.size >= this.config.maxOpenFiles) {
      const [oldestKey, oldest] = this.#files.entries().next().value as [string, OpenFile];
      this.#files.delete(oldestKey);
      await this.#closeFile(oldest);
    }
    const path = this.#template.render(values, part);
    let handle: FileHandle;
    let created: boolean;
    try {
      await mkdir(dirname(path), { recursive: true });
      created = !(await exists(path));
      handle = await open(path, 'a+', this.config.fileMode);
      if (created) await syncDirectory(dirname(path));
    } catch (cause) {
      throw fileFailure('SINK_FILE_OPEN_FAILED', `cannot open ${path} for appending`, cause);
    }
    try {
      const size = (await handle.stat()).size;
      const valid = size === 0 ? 0 : await validPrefix(handle, size, this.config, path);
      if (valid < size) {
        await handle.truncate(valid);
        await handle.datasync();
        this.#stats.repairs += 1;
        this.#logger.warn('cut a torn tail left by a crash', { path, removedBytes: size - valid });
      }
      const file: OpenFile = { seriesKey, path, part, handle, size: valid, closed: false };
      this.#files.set(seriesKey, file);
      return file;
    } catch (cause) {
      await handle.close().catch(() => undefined);
      if (isKefuError(cause)) throw cause;
      throw fileFailure('SINK_FILE_OPEN_FAILED', `cannot check or repair ${path}`, cause);
    }
  }

  async #closeFile(file: OpenFile): Promise<void> {
    // Files written under the interval policy must be fsynced before their handle goes.
    if (this.#scheduler) await this.#scheduler.flushNow().catch(() => undefined);
    try {
      if (this.config.fsync !== 'none') await file.handle.datasync();
    } finally {
      file.closed = true;
      await file.handle.close();
    }
  }
}

/** A file-system failure as this package's error; a full disk is SINK_FILE_DISK_FULL, said in words. */
function fileFailure(code: FileSinkErrorCode, message: string, cause: unknown) {
  if (isDiskFull(cause)) {
    return fileSinkError('SINK_FILE_DISK_FULL', `${diskFullPrefix(cause)}${message} (${(cause as Error).message})`, {
      cause,
    });
  }
  return fileSinkError(code, message, { cause });
}
