import { randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync, readFileSync, rename, unlinkSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { type Checkpoint, CheckpointSchema, type CheckpointStore } from './checkpoint.js';
import { coreError } from './errors.js';
import { diskFullPrefix } from './jsonl-append-file.js';
import { KeyedLock } from './keyed-lock.js';
import { formatZodIssue } from './zod-issues.js';

/** On libuv's pool: the steps of a save that wait for the disk (or for the journal, a rename). */
const fsyncAsync = promisify(fsync);
const renameAsync = promisify(rename);

/**
 * Checkpoint stores kept in memory and in a local JSON file. Both validate what they
 * save and load, and both refuse to replace a stored checkpoint with an empty one
 * (the start of a stream): losing state that way is the most reported bug of record
 * movers. Resetting a stream is an explicit {@link ResettableCheckpointStore.delete}.
 */

/** A checkpoint store that can also list and delete keys (used by `kefu checkpoints`). */
export interface ResettableCheckpointStore extends CheckpointStore {
  /** Every stored key with its checkpoint. */
  entries(): Promise<Array<[string, Checkpoint]>>;
  /** Forgets `key`, so the next sync of that stream starts from its `from`; true when it existed. */
  delete(key: string): Promise<boolean>;
}

/** True when `checkpoint` is the start of a stream (nothing delivered yet). */
export function isEmptyCheckpoint(checkpoint: Checkpoint): boolean {
  return checkpoint.position === null && checkpoint.skip === 0;
}

/** Validates a key and a checkpoint before they are stored; throws a typed error saying what is wrong. */
function validateSave(key: string, checkpoint: Checkpoint, stored: Checkpoint | undefined): Checkpoint {
  if (typeof key !== 'string' || key.length === 0) {
    throw coreError('KEFU_CHECKPOINT_INVALID', `checkpoint key must be a non-empty string, got ${JSON.stringify(key)}`);
  }
  const parsed = CheckpointSchema.safeParse(checkpoint);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw coreError(
      'KEFU_CHECKPOINT_INVALID',
      `refusing to save a malformed checkpoint for ${key}: ${formatZodIssue(issue)}`,
    );
  }
  if (stored && !isEmptyCheckpoint(stored) && isEmptyCheckpoint(parsed.data)) {
    throw coreError(
      'KEFU_CHECKPOINT_INVALID',
      `refusing to overwrite the stored checkpoint of ${key} with an empty one; delete the key to restart that stream from \`from\``,
    );
  }
  return parsed.data;
}

/** Keeps checkpoints in a Map: for tests, dry runs and embedding apps with their own persistence. */
export class MemoryCheckpointStore implements ResettableCheckpointStore {
  readonly #checkpoints = new Map<string, Checkpoint>();

  /** The stored checkpoint (a copy), or undefined. */
  async load(key: string): Promise<Checkpoint | undefined> {
    const stored = this.#checkpoints.get(key);
    return stored ? structuredClone(stored) : undefined;
  }

  /** Stores a copy, so later changes by the caller do not leak in. */
  async save(key: string, checkpoint: Checkpoint): Promise<void> {
    const valid = validateSave(key, checkpoint, this.#checkpoints.get(key));
    this.#checkpoints.set(key, structuredClone(valid));
  }

  /** Every stored key with a copy of its checkpoint. */
  async entries(): Promise<Array<[string, Checkpoint]>> {
    return [...this.#checkpoints].map(([key, checkpoint]) => [key, structuredClone(checkpoint)]);
  }

  /** Forgets `key`. */
  async delete(key: string): Promise<boolean> {
    return this.#checkpoints.delete(key);
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}

/** The on-disk format of {@link FileCheckpointStore}. */
export const CheckpointFileSchema = z.object({
  version: z.literal(1),
  checkpoints: z.record(z.string().min(1), CheckpointSchema),
});
/** The on-disk format of {@link FileCheckpointStore}. */
export type CheckpointFile = z.infer<typeof CheckpointFileSchema>;

/** Options of {@link FileCheckpointStore}. */
export const FileCheckpointStoreOptionsSchema = z.object({
  /** The JSON file holding every key (created with mode 0600; its directory with 0700). */
  path: z.string().min(1),
});
/** Options of {@link FileCheckpointStore}. */
export type FileCheckpointStoreOptions = z.input<typeof FileCheckpointStoreOptionsSchema>;

/** The parsed file and the exact text on disk it was read from or written as (undefined: no file). */
interface CachedFile {
  readonly file: CheckpointFile;
  readonly text: string | undefined;
}

/**
 * Keeps all checkpoints of a runtime in one JSON file, replaced atomically on every save
 * (temp file in the same directory, fsync, rename, fsync of the directory).
 *
 * One file per store rather than one per key: it is the single path users name in a
 * config and can inspect, back up or delete; a sync has a handful of keys, so rewriting
 * them all is cheap; and keys (`job/provider/account`) need no escaping into file names.
 *
 * A save runs once per batch, so the store keeps the file it last read or wrote, parsed and
 * validated, with its text: each save reads the file (a few KiB) and parses and validates it
 * again only when the text is not that one. So keys that other processes (or other stores)
 * saved in between are kept and a corrupt file is still refused, while a file only this store
 * writes is not parsed again; only the saved checkpoint is validated. Saves are serialized
 * within the process; saves of two processes at the same instant are not (there is no lock
 * file): the later rename wins.
 *
 * @example
 * ```ts
 * const store = new FileCheckpointStore({ path: '.kefu/checkpoints.json' });
 * await store.save('default/wechat-mp/wx123', checkpoint);
 * ```
 */
export class FileCheckpointStore implements ResettableCheckpointStore {
  /** The absolute path of the JSON file. */
  readonly path: string;
  /** Saves must not interleave their read-modify-write of the one file. */
  readonly #queue = new KeyedLock();
  /** The file as this store last read or wrote it; never mutated (saves build a new one). */
  #cached: CachedFile | undefined;
  /** The directory was created (or found) by this store: later saves skip the mkdir. */
  #directoryReady = false;
  /** Temp file names: this store's random prefix and a counter (`wx` refuses a clash anyway). */
  readonly #tempPrefix: string;
  #tempCount = 0;

  constructor(options: FileCheckpointStoreOptions) {
    const parsed = FileCheckpointStoreOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw coreError(
        'KEFU_CONFIG_INVALID',
        'FileCheckpointStore needs `path`: the JSON file to keep checkpoints in (e.g. `.kefu/checkpoints.json`)',
      );
    }
    this.path = resolve(parsed.data.path);
    this.#tempPrefix = `.${basename(this.path)}.${process.pid}.${randomBytes(6).toString('hex')}`;
  }

  /** The checkpoint stored under `key`, or undefined (also when the file does not exist yet). */
  async load(key: string): Promise<Checkpoint | undefined> {
    // Wait for saves queued before this load, so a load sees every earlier save.
    const file = await this.#queue.run('file', async () => this.#current());
    const stored = file.checkpoints[key];
    return stored ? structuredClone(stored) : undefined;
  }

  /** Atomically replaces the checkpoint of `key`, keeping the other keys. */
  save(key: string, checkpoint: Checkpoint): Promise<void> {
    return this.#queue.run('file', async () => {
      const file = this.#current();
      const valid = validateSave(key, checkpoint, file.checkpoints[key]);
      // A copy, so the caller changing its object later does not change what the next save writes.
      await this.#write({ version: 1, checkpoints: { ...file.checkpoints, [key]: structuredClone(valid) } });
    });
  }

  /** Every stored key with its checkpoint. */
  async entries(): Promise<Array<[string, Checkpoint]>> {
    const file = await this.#queue.run('file', async () => this.#current());
    return Object.entries(structuredClone(file.checkpoints));
  }

  /** Forgets `key` (an explicit reset: the next sync starts that stream from `from`). */
  delete(key: string): Promise<boolean> {
    return this.#queue.run('file', async () => {
      const file = this.#current();
      if (!Object.hasOwn(file.checkpoints, key)) return false;
      const { [key]: _deleted, ...kept } = file.checkpoints;
      await this.#write({ version: 1, checkpoints: kept });
      return true;
    });
  }

  /** Waits for queued saves; nothing else is held open. */
  async close(): Promise<void> {
    await this.#queue.run('file', async () => undefined);
  }

  /**
   * The file as it is on disk, read synchronously (a few KiB of a local file, about 0.03 ms:
   * a trip through libuv's pool costs more CPU than that); parsed and validated only when
   * its text is not the one this store last read or wrote.
   */
  #current(): CheckpointFile {
    let text: string | undefined;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw coreError(
          'KEFU_CHECKPOINT_INVALID',
          `cannot read checkpoint file ${this.path}: ${(error as Error).message}`,
          { cause: error, details: { path: this.path } },
        );
      }
    }
    if (this.#cached && this.#cached.text === text) return this.#cached.file;
    this.#cached = undefined;
    const file = text === undefined ? { version: 1 as const, checkpoints: {} } : this.#parse(text);
    this.#cached = { file, text };
    return file;
  }

  #parse(text: string): CheckpointFile {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw this.#corrupt(`it is not valid JSON (${(error as Error).message})`, error);
    }
    const parsed = CheckpointFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.#corrupt(formatZodIssue(issue), parsed.error);
    }
    return parsed.data;
  }

  #corrupt(reason: string, cause: unknown) {
    return coreError(
      'KEFU_CHECKPOINT_INVALID',
      `checkpoint file ${this.path} is corrupt: ${reason}. Repair it, or move it away to restart every stream from \`from\``,
      { cause, details: { path: this.path } },
    );
  }

  /**
   * Replaces the file with `file` (temp file, fsync, rename, fsync of the directory) and
   * remembers it. Open, write (a few KiB) and close are synchronous: together about 0.1 ms
   * on a local disk (p99 0.3 ms), while a trip through libuv's pool per call cost more CPU
   * than the calls do (a save went from about 1 ms of CPU to 0.3–0.5). The fsyncs wait for
   * the disk and the rename for the file system's journal (a synchronous rename blocked
   * 0.2 ms on average, p99 1.4–3.5 ms), so they stay on the pool and the event loop goes on.
   */
  async #write(file: CheckpointFile): Promise<void> {
    const directory = dirname(this.path);
    // Forgotten first: if this write fails half-way, the next call reads the file again.
    this.#cached = undefined;
    if (!this.#directoryReady) {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      this.#directoryReady = true;
    }
    const temporary = resolve(directory, `${this.#tempPrefix}${(this.#tempCount++).toString(36)}.tmp`);
    const text = `${JSON.stringify(file, null, 2)}\n`;
    try {
      await writeTemporary(temporary, directory, text);
      await renameAsync(temporary, this.path);
    } catch (error) {
      try {
        unlinkSync(temporary);
      } catch {
        // Not created: nothing to clean up.
      }
      throw coreError(
        'KEFU_CHECKPOINT_INVALID',
        `${diskFullPrefix(error)}cannot write checkpoint file ${this.path}: ${(error as Error).message}`,
        {
          cause: error,
          details: { path: this.path },
        },
      );
    }
    this.#cached = { file, text };
    await syncDirectory(directory);
  }
}

/** Creates `temporary` (mode 0600) holding `text`, fsynced; makes `directory` again if it went away. */
async function writeTemporary(temporary: string, directory: string, text: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(temporary, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(directory, { recursive: true, mode: 0o700 });
    fd = openSync(temporary, 'wx', 0o600);
  }
  try {
    const bytes = Buffer.from(text, 'utf8');
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename durable; platforms that cannot fsync a directory (Windows) skip it. */
async function syncDirectory(directory: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    await fsyncAsync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
