import {
  backoffDelay,
  hasMediaDownload,
  isKefuError,
  type KefuLogger,
  type KefuProvider,
  type KefuRecord,
  type MediaStore,
  silentLogger,
  sleep,
} from '@kefu/core';
import type { ServeMetrics } from './serve-metrics.js';

/**
 * The media archive of `kefu serve`: pushed image, voice and video records name media that
 * WeChat keeps 3 days. Each such record is linked to its store location (`media.archived`)
 * before it is spooled, and its download is queued: at most `concurrency` at a time, retried
 * with back-off, counted; never in the way of the record, which is stored and acknowledged
 * whatever happens to its media. The queue is in memory: downloads pending at a crash are not
 * redone (the record still names `media.key`, valid 3 days).
 */

/** Options of {@link MediaArchiver}. */
export interface MediaArchiverOptions {
  store: MediaStore;
  providers: readonly KefuProvider[];
  /** Downloads at once (default 4). */
  concurrency?: number;
  /** Tries per medium (default 5). */
  attempts?: number;
  /** Queued downloads at most; more are dropped and counted (default 10 000). */
  maxQueued?: number;
  metrics?: ServeMetrics;
  logger?: KefuLogger;
}

const ARCHIVED_KINDS = new Set(['image', 'voice', 'video']);

interface Job {
  record: KefuRecord;
  key: string;
}

/** See the module comment. */
export class MediaArchiver {
  readonly #options: MediaArchiverOptions;
  readonly #logger: KefuLogger;
  readonly #queue: Job[] = [];
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<void>>();
  #idleWaiters: Array<() => void> = [];

  constructor(options: MediaArchiverOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The records with their media linked to the store (records without archivable media unchanged). */
  link(records: readonly KefuRecord[]): KefuRecord[] {
    return records.map((record) => {
      const key = this.#keyOf(record);
      if (!key || !record.media) return record;
      return { ...record, media: { ...record.media, archived: this.#options.store.locationOf(key) } };
    });
  }

  /** Queues the downloads of records accepted for the first time. */
  enqueue(records: readonly KefuRecord[]): void {
    for (const record of records) {
      const key = this.#keyOf(record);
      if (!key || this.#abort.signal.aborted) continue;
      if (this.#queue.length >= (this.#options.maxQueued ?? 10_000)) {
        this.#options.metrics?.media.inc({ outcome: 'dropped' });
        continue;
      }
      this.#queue.push({ record, key });
    }
    this.#pump();
  }

  /** Resolves when nothing is queued or downloading (tests, graceful stop). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops: downloads in flight are aborted, queued ones are dropped (logged). */
  async stop(): Promise<void> {
    const left = this.#queue.length;
    this.#queue.length = 0;
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
    if (left > 0) this.#logger.warn('media downloads not done at stop', { left });
  }

  #keyOf(record: KefuRecord): string | undefined {
    const mediaId = record.media?.key;
    if (!mediaId || !ARCHIVED_KINDS.has(record.kind) || !this.#providerOf(record)) return undefined;
    return `${record.provider}/${record.account}/${mediaId}`;
  }

  #providerOf(record: KefuRecord) {
    return this.#options.providers.find(
      (provider) =>
        provider.platform === record.provider &&
        hasMediaDownload(provider) &&
        provider.accounts().includes(record.account),
    );
  }

  #pump(): void {
    while (this.#running.size < (this.#options.concurrency ?? 4) && this.#queue.length > 0) {
      const job = this.#queue.shift() as Job;
      const running = this.#archive(job).finally(() => {
        this.#running.delete(running);
        this.#pump();
        if (this.#queue.length === 0 && this.#running.size === 0) {
          for (const resolve of this.#idleWaiters) resolve();
          this.#idleWaiters = [];
        }
      });
      this.#running.add(running);
    }
  }

  async #archive(job: Job): Promise<void> {
    const provider = this.#providerOf(job.record);
    if (!provider || !hasMediaDownload(provider)) return;
    const attempts = this.#options.attempts ?? 5;
    const policy = { maxAttempts: attempts, baseDelayMs: 500, maxDelayMs: 30_000, jitter: 1 };
    for (let attempt = 1; attempt <= attempts && !this.#abort.signal.aborted; attempt++) {
      try {
        const media = await provider.downloadMedia(
          job.record.account,
          job.record.media?.key as string,
          this.#abort.signal,
        );
        await this.#options.store.put(job.key, media.data);
        this.#options.metrics?.media.inc({ outcome: 'stored' });
        return;
      } catch (error) {
        const retryable = !isKefuError(error) || error.retryable;
        if (!retryable || attempt === attempts || this.#abort.signal.aborted) {
          this.#options.metrics?.media.inc({ outcome: 'failed' });
          this.#logger.warn('media not archived', {
            key: job.key,
            error: isKefuError(error) ? error.code : String(error),
          });
          return;
        }
        this.#options.metrics?.media.inc({ outcome: 'retried' });
        try {
          await sleep(backoffDelay(attempt, policy), this.#abort.signal);
        } catch {
          return;
        }
      }
    }
  }
}
