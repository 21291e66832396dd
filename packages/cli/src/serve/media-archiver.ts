import {
  backoffDelay,
  hasMediaDownload,
  isKefuError,
  type KefuLogger,
  type KefuProvider,
  type KefuRecord,
  type MediaStore,
  type PushSpool,
  type SpoolDownloadRequest,
  type SpooledDownload,
  silentLogger,
  sleep,
} from '@kefu/core';
import type { ServeMetrics } from './serve-metrics.js';

/**
 * The media archive of `kefu serve`: pushed image, voice and video records name media that
 * WeChat keeps 3 days. Each such record is linked to its store location (`media.archived`)
 * before it is spooled, and its download is recorded in the spool in the same commit as the
 * record ({@link MediaArchiver.downloadsOf}), so a crash cannot lose it: {@link MediaArchiver.resume}
 * picks up at start what was pending. A download is forgotten once its file is stored, or
 * given up (counted `failed`) after `attempts` tries — tries survive restarts — or once the
 * medium expired. At most `concurrency` run at a time, with back-off between tries; never in
 * the way of the record, which is stored and acknowledged whatever happens to its media.
 */

/** Options of {@link MediaArchiver}. */
export interface MediaArchiverOptions {
  store: MediaStore;
  providers: readonly KefuProvider[];
  /** Where pending downloads are recorded (the push spool). */
  spool: PushSpool;
  /** Downloads at once (default 4). */
  concurrency?: number;
  /** Tries per medium, across restarts (default 5). */
  attempts?: number;
  /** Downloads held in memory at most; more wait in the spool and are read back later (default 10 000). */
  maxQueued?: number;
  metrics?: ServeMetrics;
  logger?: KefuLogger;
  /** The clock, ms (default Date.now). */
  now?: () => number;
}

/** WeChat keeps temporary media 3 days ("媒体文件在微信后台保存时间为3天"). */
export const MEDIA_LIFETIME_MS = 3 * 24 * 3600 * 1000;

// Files too: WeCom kf media ids (files included) also live 3 days (wecom-kf.md §6.1).
const ARCHIVED_KINDS = new Set(['image', 'voice', 'video', 'file']);

/** See the module comment. */
export class MediaArchiver {
  readonly #options: MediaArchiverOptions;
  readonly #logger: KefuLogger;
  readonly #now: () => number;
  readonly #queue: SpooledDownload[] = [];
  /** Keys queued or running, so a read-back from the spool does not start one twice. */
  readonly #known = new Set<string>();
  /** Downloads were left in the spool because the memory queue was full. */
  #overflow = false;
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<void>>();
  #idleWaiters: Array<() => void> = [];

  constructor(options: MediaArchiverOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  /** The records with their media linked to the store (records without archivable media unchanged). */
  link(records: readonly KefuRecord[]): KefuRecord[] {
    return records.map((record) => {
      const key = this.#keyOf(record);
      if (!key || !record.media) return record;
      return { ...record, media: { ...record.media, archived: this.#options.store.locationOf(key) } };
    });
  }

  /** The downloads to record in the spool with these records (accepted at `acceptedAt`, ms). */
  downloadsOf(records: readonly KefuRecord[], acceptedAt: number): SpoolDownloadRequest[] {
    return records.flatMap((record) => {
      const key = this.#keyOf(record);
      return key ? [{ key, record, expiresAt: acceptedAt + MEDIA_LIFETIME_MS }] : [];
    });
  }

  /** Starts the downloads of records accepted for the first time (already recorded in the spool). */
  enqueue(records: readonly KefuRecord[]): void {
    for (const download of this.downloadsOf(records, this.#now())) this.#add({ ...download, tries: 0 });
    this.#pump();
  }

  /** Starts the downloads the spool holds from before (a crash or a stop): call once at start. */
  resume(): void {
    this.#readBack();
    this.#pump();
  }

  /** Resolves when nothing is queued or downloading (tests, graceful stop). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops: downloads in flight are aborted; they and the queued ones stay in the spool for the next start. */
  async stop(): Promise<void> {
    const left = this.#queue.length + this.#running.size;
    this.#queue.length = 0;
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
    if (left > 0) this.#logger.info('media downloads kept for the next start', { left });
  }

  #add(download: SpooledDownload): void {
    if (this.#abort.signal.aborted || this.#known.has(download.key)) return;
    if (this.#queue.length >= (this.#options.maxQueued ?? 10_000)) {
      this.#overflow = true;
      return;
    }
    this.#known.add(download.key);
    this.#queue.push(download);
  }

  #readBack(): void {
    this.#overflow = false;
    const limit = this.#options.maxQueued ?? 10_000;
    for (const download of this.#options.spool.pendingDownloads(limit + this.#known.size)) this.#add(download);
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
    if (this.#queue.length === 0 && this.#overflow && !this.#abort.signal.aborted) this.#readBack();
    while (this.#running.size < (this.#options.concurrency ?? 4) && this.#queue.length > 0) {
      const download = this.#queue.shift() as SpooledDownload;
      const running = this.#archive(download).finally(() => {
        this.#running.delete(running);
        this.#known.delete(download.key);
        this.#pump();
        if (this.#queue.length === 0 && this.#running.size === 0) {
          for (const resolve of this.#idleWaiters) resolve();
          this.#idleWaiters = [];
        }
      });
      this.#running.add(running);
    }
  }

  #giveUp(download: SpooledDownload, reason: string): void {
    this.#options.spool.downloadDone(download.key);
    this.#options.metrics?.media.inc({ outcome: 'failed' });
    this.#logger.warn('media not archived', { key: download.key, error: reason });
  }

  async #archive(download: SpooledDownload): Promise<void> {
    const { spool } = this.#options;
    const provider = this.#providerOf(download.record);
    if (!provider || !hasMediaDownload(provider)) {
      this.#giveUp(download, 'no provider downloads this medium');
      return;
    }
    const attempts = this.#options.attempts ?? 5;
    const policy = { maxAttempts: attempts, baseDelayMs: 500, maxDelayMs: 30_000, jitter: 1 };
    while (!this.#abort.signal.aborted) {
      if (this.#now() > download.expiresAt) return this.#giveUp(download, 'media expired');
      // Counted before the try: a crash during it still uses it up.
      const tries = spool.downloadTried(download.key);
      if (tries === 0) return; // no longer recorded: done elsewhere
      if (tries > attempts) return this.#giveUp(download, 'tries used up');
      try {
        const media = await provider.downloadMedia(
          download.record.account,
          download.record.media?.key as string,
          this.#abort.signal,
        );
        await this.#options.store.put(download.key, media.data);
        spool.downloadDone(download.key);
        this.#options.metrics?.media.inc({ outcome: 'stored' });
        return;
      } catch (error) {
        if (this.#abort.signal.aborted) return; // kept for the next start
        const retryable = !isKefuError(error) || error.retryable;
        if (!retryable || tries >= attempts) {
          return this.#giveUp(download, isKefuError(error) ? error.code : String(error));
        }
        this.#options.metrics?.media.inc({ outcome: 'retried' });
        try {
          await sleep(backoffDelay(tries, policy), this.#abort.signal);
        } catch {
          return;
        }
      }
    }
  }
}
