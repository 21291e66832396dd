import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { coreError, type KefuError } from './errors.js';

/**
 * An append-only JSON Lines file written durably: each value is one line, appended with
 * one write and fsynced before {@link JsonlAppendFile.append} resolves; the file is created
 * with mode 0600 (dead letters hold records, which are personal data). Appends run one
 * after another. A torn last line left by a crash is cut before the first append.
 */

/** Options of {@link JsonlAppendFile}. */
export interface JsonlAppendFileOptions {
  /** What the file is, for messages (default `JSONL file`). */
  what?: string;
  /** Maps a failed append to the caller's error (default KEFU_DEAD_LETTER_FAILED). */
  toError?: (message: string, cause: unknown) => KefuError;
}

/** Position just after the last `\n` before `end` (0 when none), scanning backwards. */
async function afterLastNewline(handle: FileHandle, end: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let high = end; high > 0; ) {
    const low = Math.max(0, high - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, high - low, low);
    const index = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (index >= 0) return low + index + 1;
    high = low;
  }
  return 0;
}

/** The errno code of `error` or of one of its causes, when it says the disk (or quota) is full. */
function diskFullCode(error: unknown): 'ENOSPC' | 'EDQUOT' | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when a file-system error (or one of its causes) is ENOSPC or EDQUOT: no space left to write. */
export function isDiskFull(error: unknown): boolean {
  return diskFullCode(error) !== undefined;
}

/** `disk full: ` (ENOSPC) or `disk quota exceeded: ` (EDQUOT) to put before a message naming the path, else nothing. */
export function diskFullPrefix(error: unknown): string {
  const code = diskFullCode(error);
  return code === 'ENOSPC' ? 'disk full: ' : code === 'EDQUOT' ? 'disk quota exceeded: ' : '';
}

/** A durable, append-only JSONL file (see the module comment). */
export class JsonlAppendFile {
  /** The file's path. */
  readonly path: string;
  readonly #what: string;
  readonly #toError: (message: string, cause: unknown) => KefuError;
  #queue: Promise<unknown> = Promise.resolve();
  #checkedTail = false;

  /** A file at `path`, created on the first append. */
  constructor(path: string, options: JsonlAppendFileOptions = {}) {
    this.path = path;
    this.#what = options.what ?? 'JSONL file';
    this.#toError = options.toError ?? ((message, cause) => coreError('KEFU_DEAD_LETTER_FAILED', message, { cause }));
  }

  /** Appends `value` as one line and fsyncs; rejects with the mapped error (disk full named as such). */
  append(value: unknown): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
    const run = this.#queue.then(() => this.#write(line));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #write(line: Buffer): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true });
      const handle = await open(this.path, 'a+', 0o600);
      try {
        const info = await handle.stat();
        // Tighten a pre-existing regular file too; never touch devices or pipes.
        if (info.isFile() && (info.mode & 0o777) !== 0o600) await handle.chmod(0o600);
        if (!this.#checkedTail && info.isFile()) {
          // A crash mid-append leaves a torn last line: cut it (it was never acknowledged).
          const size = info.size;
          const keep = await afterLastNewline(handle, size);
          if (keep < size) await handle.truncate(keep);
          this.#checkedTail = true;
        }
        const start = (await handle.stat()).size;
        try {
          let offset = 0;
          while (offset < line.length) offset += (await handle.write(line, offset)).bytesWritten;
          await handle.datasync();
        } catch (error) {
          // A full disk can stop a line half-way: take it back, so the file stays whole lines.
          await handle.truncate(start).catch(() => undefined);
          throw error;
        }
      } finally {
        await handle.close();
      }
    } catch (cause) {
      throw this.#toError(
        `${diskFullPrefix(cause)}cannot append to the ${this.#what} ${this.path}: ${(cause as Error).message}`,
        cause,
      );
    }
  }
}
