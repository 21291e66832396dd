import type { FileHandle } from 'node:fs/promises';
import { fileSinkError } from './errors.js';

/** A file the scheduler can fsync; closed files were fsynced when they were closed. */
export interface SyncableFile {
  readonly handle: FileHandle;
  readonly closed: boolean;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The `interval` fsync policy as group commit: writers append, then wait here; one fsync
 * pass at most every `intervalMs` covers every file written since the last pass, and only
 * then are their writes acknowledged.
 */
export class IntervalSyncScheduler {
  readonly #intervalMs: number;
  readonly #dirty = new Set<SyncableFile>();
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastSyncAt = 0;
  #running: Promise<void> = Promise.resolve();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Resolves once a fsync pass that covers everything already written to `files` has finished. */
  waitForSync(files: Iterable<SyncableFile>): Promise<void> {
    for (const file of files) this.#dirty.add(file);
    const promise = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#timer) {
      const delay = Math.max(0, this.#lastSyncAt + this.#intervalMs - Date.now());
      this.#timer = setTimeout(() => void this.flushNow(), delay);
    }
    return promise;
  }

  /** Runs a fsync pass now (before a file is closed, and on close). */
  flushNow(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const files = [...this.#dirty];
    const waiters = this.#waiters;
    this.#dirty.clear();
    this.#waiters = [];
    // Passes run one after another so a later pass never acknowledges before an earlier one.
    const pass = this.#running.then(async () => {
      this.#lastSyncAt = Date.now();
      try {
        await Promise.all(files.filter((file) => !file.closed).map((file) => file.handle.datasync()));
        for (const waiter of waiters) waiter.resolve();
      } catch (cause) {
        const error = fileSinkError('SINK_FILE_SYNC_FAILED', 'fsync of an output file failed', { cause });
        for (const waiter of waiters) waiter.reject(error);
        throw error;
      }
    });
    this.#running = pass.catch(() => undefined);
    return pass;
  }
}
