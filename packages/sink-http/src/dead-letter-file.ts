import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RecordBatch } from '@kefu/core';
import { httpSinkError } from './errors.js';

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

/** One line of the dead-letter file. */
export interface DeadLetterEntry {
  /** When the batch was given up (ISO-8601 UTC). */
  at: string;
  sink: string;
  idempotencyKey: string;
  /** The final error (code, message, details; secrets redacted). */
  error: Record<string, unknown>;
  batch: RecordBatch;
}

/**
 * An append-only JSONL file of batches that failed permanently. Each entry is appended
 * with one write and fsynced before {@link DeadLetterFile.append} resolves, so a batch
 * acknowledged upstream is never lost silently. Created with mode 0600: it holds records.
 */
export class DeadLetterFile {
  readonly path: string;
  #queue: Promise<unknown> = Promise.resolve();
  #checkedTail = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends one entry durably; rejects with SINK_HTTP_DEAD_LETTER_FAILED. */
  append(entry: DeadLetterEntry): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
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
        let offset = 0;
        while (offset < line.length) offset += (await handle.write(line, offset)).bytesWritten;
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (cause) {
      throw httpSinkError('SINK_HTTP_DEAD_LETTER_FAILED', `cannot append to the dead-letter file ${this.path}`, {
        cause,
      });
    }
  }
}
