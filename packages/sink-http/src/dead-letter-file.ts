import { JsonlAppendFile, type RecordBatch } from '@kefu/core';
import { httpSinkError } from './errors.js';

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
 * An append-only JSONL file of batches that failed permanently (core's durable
 * {@link JsonlAppendFile}: one fsynced line per batch, mode 0600, a torn last line cut), so
 * a batch acknowledged upstream is never lost silently.
 */
export class DeadLetterFile {
  readonly path: string;
  readonly #file: JsonlAppendFile;

  constructor(path: string) {
    this.path = path;
    this.#file = new JsonlAppendFile(path, {
      what: 'dead-letter file',
      toError: (message, cause) => httpSinkError('SINK_HTTP_DEAD_LETTER_FAILED', message, { cause }),
    });
  }

  /** Appends one entry durably; rejects with SINK_HTTP_DEAD_LETTER_FAILED. */
  append(entry: DeadLetterEntry): Promise<void> {
    return this.#file.append(entry);
  }
}
