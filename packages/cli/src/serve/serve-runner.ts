import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import {
  DirectoryMediaStore,
  emitsSentRecords,
  hasPushReceivers,
  type Kefu,
  type KefuLogger,
  type KefuProvider,
  type KefuRecord,
  type MediaStore,
  type PushReceiver,
  PushSpool,
  type ServeConfig,
  type ServeConfigInput,
  ServeConfigSchema,
  SpoolDedupingSink,
  SpoolDrainer,
  sleep,
} from '@kefu/core';
import { parseTimeArgument } from '../time-arguments.js';
import { MediaArchiver } from './media-archiver.js';
import { createServeHandler, type ServeHandler } from './serve-handler.js';
import { ServeMetrics } from './serve-metrics.js';
import { SpoolAppendingSink } from './spool-appending-sink.js';
import { TargetSyncs } from './target-syncs.js';

/**
 * `kefu serve` as a library: the push receivers of every configured provider, the spool
 * and its drainer into the configured sinks, a scheduled incremental backfill through the
 * sync pipeline (its checkpoints, deduplicated against pushes), and a node:http server —
 * or just the handler, to mount in an application's own server ({@link createServeHandler}).
 */

/** Options of {@link startServe}. */
export interface StartServeOptions {
  kefu: Kefu;
  /** The `serve` block (validated here; defaults applied). */
  serve?: ServeConfigInput;
  /** Directory the spool path is relative to (the config file's). */
  baseDir: string;
  /** Override `serve.host` / `serve.port` (the CLI flags). */
  host?: string;
  port?: number;
  /** Where pushed media are archived (default: a directory when `serve.media` is set; give an object store here). */
  mediaStore?: MediaStore;
  /** Do not listen: only build the handler (mount `handler.handler` yourself). */
  listen?: boolean;
  /**
   * Told about pushed and pulled (a callback's doorbell, e.g. WeCom kf) records the spool
   * committed for the first time (retries are not repeated): the demo prints them.
   */
  onStored?: (records: readonly KefuRecord[]) => void;
  logger?: KefuLogger;
}

/** A running `kefu serve`. */
export interface RunningServe {
  /** `http://host:port` when listening. */
  readonly url: string | undefined;
  readonly handler: ServeHandler;
  readonly metrics: ServeMetrics;
  readonly spool: PushSpool;
  /** The media archive, when configured. */
  readonly media: MediaArchiver | undefined;
  /** Resolves after each completed backfill round (for tests and the demo). */
  backfillRounds(): number;
  /** Graceful stop: no new pushes, in-flight ones finish, the spool drains, the backfill stops at a commit. */
  close(): Promise<void>;
}

/** The parts of a serve every helper below shares. */
interface ServeParts {
  spool: PushSpool;
  metrics: ServeMetrics;
  logger: KefuLogger;
}

/** The drainer that moves spooled batches into the sinks, started. */
function startDrainer({ spool, metrics, logger }: ServeParts, sinks: ReturnType<Kefu['sinks']>): SpoolDrainer {
  const drainer = new SpoolDrainer({
    spool,
    sinks,
    logger,
    onDrained: (batch) => {
      for (const sink of batch.sinkIds) {
        metrics.recordsOut.inc({ provider: batch.provider, account: batch.account, sink }, batch.records);
      }
    },
    onRetry: () => metrics.retries.inc({ component: 'drain' }),
  });
  drainer.start();
  return drainer;
}

/** The media archive (resumed), when a store is given or `serve.media` is set. */
function openArchiver(
  options: StartServeOptions,
  config: ServeConfig,
  { spool, metrics, logger }: ServeParts,
): MediaArchiver | undefined {
  const mediaStore =
    options.mediaStore ??
    (config.media ? new DirectoryMediaStore(resolve(options.baseDir, config.media.dir)) : undefined);
  const archiver = mediaStore
    ? new MediaArchiver({
        store: mediaStore,
        providers: options.kefu.providers(),
        spool,
        concurrency: config.media?.concurrency ?? 4,
        attempts: config.media?.attempts ?? 5,
        metrics,
        logger,
      })
    : undefined;
  archiver?.resume();
  return archiver;
}

/** How accepted records reach the media archive: linked before they are spooled, downloads in the same commit. */
function archiveHooks(archiver: MediaArchiver | undefined) {
  return archiver
    ? {
        prepareRecords: (records: readonly KefuRecord[]) => archiver.link(records),
        downloadsOf: (records: readonly KefuRecord[], acceptedAt: number) => archiver.downloadsOf(records, acceptedAt),
      }
    : {};
}

/** Backfill and pull syncs: backfill deduplicated against the spool, pulls appended to it like pushes. */
function createTargetSyncs(
  runtime: Kefu,
  sinks: ReturnType<Kefu['sinks']>,
  { spool, metrics, logger }: ServeParts,
  archiver: MediaArchiver | undefined,
  signal: AbortSignal,
  onStored?: (records: readonly KefuRecord[]) => void,
): TargetSyncs {
  return new TargetSyncs({
    kefu: runtime,
    sink: new SpoolDedupingSink(spool, sinks, (batch, dropped) => {
      for (const record of batch.records) {
        metrics.recordsIn.inc({ provider: record.provider, account: record.account, source: 'backfill' });
      }
      if (dropped > 0) metrics.recordsDeduplicated.inc({ source: 'backfill' }, dropped);
    }),
    pullSink: new SpoolAppendingSink({
      spool,
      ...archiveHooks(archiver),
      onStored: (records) => {
        for (const record of records) {
          metrics.recordsIn.inc({ provider: record.provider, account: record.account, source: 'pull' });
        }
        archiver?.enqueue(records);
        onStored?.(records);
      },
    }),
    metrics,
    logger,
    signal,
  });
}

/** Every push receiver of the runtime's providers, with the provider it belongs to. */
function pushReceiversOf(runtime: Kefu): Map<PushReceiver, KefuProvider> {
  const providerOf = new Map<PushReceiver, KefuProvider>();
  for (const provider of runtime.providers()) {
    if (!hasPushReceivers(provider)) continue;
    for (const receiver of provider.pushReceivers()) providerOf.set(receiver, provider);
  }
  return providerOf;
}

/** A node:http server for the handler, listening, with the serve's limits; its URL. */
async function listen(
  options: StartServeOptions,
  config: ServeConfig,
  handler: ServeHandler,
  { receivers, spoolPath, logger }: { receivers: readonly PushReceiver[]; spoolPath: string; logger: KefuLogger },
): Promise<{ server: Server; url: string }> {
  const server = createServer(
    {
      headersTimeout: config.limits.headersTimeoutMs,
      requestTimeout: config.limits.headersTimeoutMs + config.limits.bodyTimeoutMs,
      keepAliveTimeout: 5_000,
      // Node checks the header and request timeouts this often (default 30 s): often enough
      // that a client trickling its headers is cut close to headersTimeoutMs.
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(config.limits.headersTimeoutMs / 2))),
    },
    handler.handler,
  );
  server.maxConnections = config.limits.maxConnections;
  const host = options.host ?? config.host;
  const port = options.port ?? config.port;
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info('kefu serve listening', {
    url,
    receivers: receivers.map((receiver) => receiver.pathPrefix),
    spool: spoolPath,
  });
  return { server, url };
}

/** Starts serving (see the module comment). The caller closes the runtime after {@link RunningServe.close}. */
export async function startServe(options: StartServeOptions): Promise<RunningServe> {
  const config: ServeConfig = ServeConfigSchema.parse(options.serve ?? {});
  const { kefu } = options;
  const logger = options.logger ?? kefu.logger;
  const spoolPath = isAbsolute(config.spool.path) ? config.spool.path : resolve(options.baseDir, config.spool.path);
  const spool = PushSpool.open({ path: spoolPath, dedupeWindowMs: config.spool.dedupeWindowHours * 3600_000 });
  const metrics = new ServeMetrics(() => spool.depth());
  const sinks = kefu.sinks();
  const drainer = startDrainer({ spool, metrics, logger }, sinks);
  const archiver = openArchiver(options, config, { spool, metrics, logger });
  const abort = new AbortController();
  const syncs = createTargetSyncs(kefu, sinks, { spool, metrics, logger }, archiver, abort.signal, options.onStored);
  const providerOf = pushReceiversOf(kefu);
  const receivers = [...providerOf.keys()];
  const stopSentRecords = spoolSentRecords(kefu.providers(), spool, metrics, logger);
  const handler = createServeHandler({
    receivers,
    spool,
    metrics,
    limits: config.limits,
    logger,
    ...archiveHooks(archiver),
    ...(archiver || options.onStored
      ? {
          onStored: (records: readonly KefuRecord[]) => {
            archiver?.enqueue(records);
            options.onStored?.(records);
          },
        }
      : {}),
    onPull: (receiver, account) => {
      const provider = providerOf.get(receiver);
      if (provider) syncs.pull(provider, account);
    },
    ready: async () => {
      await Promise.all(sinks.map((sink) => sink.check?.()));
      await kefu.checkpointStore.load('serve/readyz');
    },
  });
  const backfill = startBackfill(options, config, syncs, abort, logger);
  const { server, url } =
    (options.listen ?? true)
      ? await listen(options, config, handler, { receivers, spoolPath, logger })
      : { server: undefined, url: undefined };
  let closing: Promise<void> | undefined;
  const close = async () => {
    handler.stopAccepting();
    const serverClosed = server
      ? new Promise<void>((resolvePromise) => server?.close(() => resolvePromise()))
      : Promise.resolve();
    server?.closeIdleConnections();
    await handler.idle();
    await archiver?.stop();
    stopSentRecords();
    await backfill.stop();
    await syncs.idle();
    await drainer.stop();
    spool.close();
    server?.closeAllConnections();
    await serverClosed;
    logger.info('kefu serve stopped', { spoolDepthLeft: 'kept for the next start' });
  };
  return {
    url,
    handler,
    metrics,
    spool,
    media: archiver,
    backfillRounds: () => backfill.rounds(),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/** The scheduled backfill: a sync of every target every interval, into the sinks through the spool's dedupe. */
function startBackfill(
  options: StartServeOptions,
  config: ServeConfig,
  syncs: TargetSyncs,
  abort: AbortController,
  logger: KefuLogger,
): { stop(): Promise<void>; rounds(): number } {
  let rounds = 0;
  const settings = config.backfill;
  if (!settings?.enabled) return { stop: async () => abort.abort(), rounds: () => rounds };
  const loop = async () => {
    while (!abort.signal.aborted) {
      const now = Date.now();
      try {
        await syncs.backfill(
          { from: parseTimeArgument('serve.backfill.lookback', settings.lookback, now), to: new Date(now) },
          options.kefu.syncDefaults.concurrency ?? 2,
        );
      } catch (error) {
        logger.error('scheduled backfill failed', { error: String(error) });
      }
      rounds += 1;
      try {
        await sleep(settings.intervalSeconds * 1000, abort.signal);
      } catch {
        return;
      }
    }
  };
  const running = loop();
  return {
    stop: async () => {
      abort.abort();
      await running;
    },
    rounds: () => rounds,
  };
}

/**
 * Spools the records of messages providers send themselves (WeCom `send_msg`, which the
 * platform never returns): each is stored once, under its id, and drained to the sinks.
 */
function spoolSentRecords(
  providers: readonly KefuProvider[],
  spool: PushSpool,
  metrics: ServeMetrics,
  logger: KefuLogger,
): () => void {
  const stops = providers.filter(emitsSentRecords).map((provider) =>
    provider.onRecordSent((record) => {
      spool
        .append({ dedupeKey: `sent/${provider.id}/${record.account}/${record.id}`, records: [record] })
        .then((stored) => {
          if (!stored.duplicate) {
            metrics.recordsIn.inc({ provider: record.provider, account: record.account, source: 'sent' });
          }
        })
        .catch((error: unknown) =>
          logger.error('sent message record not spooled', { provider: provider.id, error: String(error) }),
        );
    }),
  );
  return () => {
    for (const stop of stops) stop();
  };
}
