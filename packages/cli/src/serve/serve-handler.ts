import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  isKefuError,
  type KefuLogger,
  type KefuRecord,
  KefuRecordSchema,
  type PushAnswer,
  type PushDecision,
  type PushReceiver,
  type PushSpool,
  type SpoolDownloadRequest,
  silentLogger,
} from '@kefu/core';
import { ServeMetrics } from './serve-metrics.js';

/**
 * The HTTP side of `kefu serve`, as one `(request, response)` handler that mounts into any
 * node:http server (Express and Fastify hand it their raw request and response): the push
 * receivers under their path prefixes, `GET /healthz`, `GET /readyz` and `GET /metrics`.
 * A push is acknowledged only after the spool committed it, and only within
 * `ackDeadlineMs`; otherwise the receiver's "unavailable" answer makes the platform retry.
 */

/** Limits every request gets. */
export interface ServeHandlerLimits {
  /** Largest body, bytes (default 1 MiB): more gets 413 and the connection is closed. */
  maxBodyBytes?: number;
  /** Time to receive the whole body, ms (default 5 000): a slow client gets 408 and is cut. */
  bodyTimeoutMs?: number;
  /** Time to store a push before giving up on acknowledging it, ms (default 4 000). */
  ackDeadlineMs?: number;
}

/** Options of {@link createServeHandler}. */
export interface ServeHandlerOptions {
  receivers: readonly PushReceiver[];
  spool: PushSpool;
  /** Default: new metrics over `spool`. */
  metrics?: ServeMetrics;
  limits?: ServeHandlerLimits;
  /** Rejects when a dependency (sink, checkpoint store) is not reachable: `/readyz` answers 503. */
  ready?: () => Promise<void>;
  logger?: KefuLogger;
  /** Serve `/healthz`, `/readyz`, `/metrics` (default true; false when the host app has its own). */
  operationalEndpoints?: boolean;
  /** Changes accepted records before they are spooled (the media archive links its locations). */
  prepareRecords?: (records: readonly KefuRecord[]) => readonly KefuRecord[];
  /** Media downloads to record with accepted records, in the same commit (the media archive). */
  downloadsOf?: (records: readonly KefuRecord[], acceptedAt: number) => readonly SpoolDownloadRequest[];
  /** Told about records stored for the first time (the media archive queues their downloads). */
  onStored?: (records: readonly KefuRecord[]) => void;
  /** Told about a `pull` decision: sync `account` of the receiver's provider soon (WeCom doorbells). */
  onPull?: (receiver: PushReceiver, account: string) => void;
}

/** What {@link createServeHandler} returns. */
export interface ServeHandler {
  /** The node:http request handler. */
  readonly handler: (request: IncomingMessage, response: ServerResponse) => void;
  readonly metrics: ServeMetrics;
  /** True when the path belongs to this handler (for frameworks that route first). */
  owns(path: string): boolean;
  /** New pushes get 503 from now on (a graceful stop); health endpoints keep answering. */
  stopAccepting(): void;
  /** Resolves once no push is being read or stored. */
  idle(): Promise<void>;
}

const DEFAULTS = { maxBodyBytes: 1_048_576, bodyTimeoutMs: 5_000, ackDeadlineMs: 4_000 } as const;
const DEFAULT_UNAVAILABLE: PushAnswer = { status: 503, body: '' };

/** A request that must end now, with an answer (or none) and the connection closed. */
class RequestRefused extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** What the request-serving parts share with {@link createServeHandler}. */
interface HandlerContext {
  options: ServeHandlerOptions;
  limits: Required<ServeHandlerLimits>;
  metrics: ServeMetrics;
  logger: KefuLogger;
  /** False once stopAccepting was called. */
  accepting(): boolean;
}

/** Counts a push outcome of one receiver. */
type CountPush = (outcome: string, reason?: string) => void;

/** Receivers longest prefix first (so the most specific matches); throws when two share a prefix. */
function receiversByPrefix(receivers: readonly PushReceiver[]): PushReceiver[] {
  const sorted = [...receivers].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
  const prefixes = new Set<string>();
  for (const receiver of sorted) {
    if (prefixes.has(receiver.pathPrefix)) {
      throw new Error(`two push receivers share the path ${receiver.pathPrefix}: give one a \`path\``);
    }
    prefixes.add(receiver.pathPrefix);
  }
  return sorted;
}

/** The receiver whose prefix `path` is under, and the rest of the path. */
function routeTo(
  receivers: readonly PushReceiver[],
  path: string,
): { receiver: PushReceiver; subpath: string } | undefined {
  for (const receiver of receivers) {
    if (path === receiver.pathPrefix || path.startsWith(`${receiver.pathPrefix}/`)) {
      return { receiver, subpath: path.slice(receiver.pathPrefix.length) };
    }
  }
  return undefined;
}

/** `/healthz`, `/readyz`, `/metrics`; false when `path` is none of them (or they are off). */
async function serveOperational(context: HandlerContext, path: string, response: ServerResponse): Promise<boolean> {
  const { options } = context;
  if (!(options.operationalEndpoints ?? true)) return false;
  if (path === '/healthz') {
    send(response, { status: 200, body: 'ok\n' });
    return true;
  }
  if (path === '/readyz') {
    try {
      options.spool.check();
      await options.ready?.();
      const accepting = context.accepting();
      send(response, { status: accepting ? 200 : 503, body: accepting ? 'ready\n' : 'stopping\n' });
    } catch (error) {
      send(response, { status: 503, body: `not ready: ${isKefuError(error) ? error.code : 'error'}\n` });
    }
    return true;
  }
  if (path === '/metrics') {
    const { contentType, body } = await context.metrics.exposition();
    send(response, { status: 200, body, contentType });
    return true;
  }
  return false;
}

/** Reads the push's body; undefined when it was refused (the answer is sent, or the connection cut). */
async function readPushBody(
  context: HandlerContext,
  request: IncomingMessage,
  response: ServerResponse,
  count: CountPush,
): Promise<Buffer | undefined> {
  try {
    return await readBody(request, context.limits.maxBodyBytes, context.limits.bodyTimeoutMs);
  } catch (error) {
    if (!(error instanceof RequestRefused)) throw error;
    count('rejected', error.reason);
    if (error.status > 0) send(response, { status: error.status, body: `${error.reason}\n` }, true);
    else response.destroy();
    return undefined;
  }
}

/** One push to a receiver: read, let the receiver decide, then answer, pull, refuse or store. */
async function servePush(
  context: HandlerContext,
  request: IncomingMessage,
  response: ServerResponse,
  receiver: PushReceiver,
  url: URL,
  subpath: string,
): Promise<void> {
  const { options, metrics, logger } = context;
  const count: CountPush = (outcome, reason = '') => metrics.pushes.inc({ receiver: receiver.id, outcome, reason });
  if (!context.accepting()) {
    count('unavailable', 'stopping');
    request.resume();
    send(response, receiver.unavailableAnswer ?? DEFAULT_UNAVAILABLE, true);
    return;
  }
  const body = await readPushBody(context, request, response, count);
  if (body === undefined) return;
  const receivedAt = Date.now();
  const decision: PushDecision = await receiver.handle({
    method: request.method ?? 'GET',
    subpath,
    query: url.searchParams,
    headers: request.headers,
    body,
    receivedAt,
  });
  if (decision.kind === 'reply') {
    send(response, decision.answer);
    return;
  }
  if (decision.kind === 'pull') {
    // A doorbell: nothing to store; the pull reads the records through the sync checkpoint.
    count('pull');
    options.onPull?.(receiver, decision.account);
    send(response, decision.answer);
    return;
  }
  if (decision.kind === 'reject') {
    count('rejected', decision.reason);
    logger.warn('push refused', { receiver: receiver.id, reason: decision.reason, status: decision.answer.status });
    send(response, decision.answer);
    return;
  }
  await storePush(context, response, receiver, decision, receivedAt, count);
}

/** An accepted push: validated, spooled within the ack deadline, then acknowledged (or "unavailable"). */
async function storePush(
  context: HandlerContext,
  response: ServerResponse,
  receiver: PushReceiver,
  decision: Extract<PushDecision, { kind: 'accept' }>,
  receivedAt: number,
  count: CountPush,
): Promise<void> {
  const { options, metrics, logger, limits } = context;
  const records = options.prepareRecords ? options.prepareRecords(decision.records) : decision.records;
  const invalid = records.find((record) => !KefuRecordSchema.safeParse(record).success);
  if (invalid) {
    // A normalizer bug, not the platform's: nothing is written and no ack is sent.
    count('unavailable', 'invalid_record');
    logger.error('push normalized to an invalid record; not stored, not acknowledged', { receiver: receiver.id });
    send(response, receiver.unavailableAnswer ?? DEFAULT_UNAVAILABLE);
    return;
  }
  const stored = await withDeadline(
    options.spool.append({
      dedupeKey: decision.dedupeKey,
      records,
      ...(options.downloadsOf ? { downloads: options.downloadsOf(records, receivedAt) } : {}),
    }),
    limits.ackDeadlineMs - (Date.now() - receivedAt),
  );
  if (stored === 'late' || stored instanceof Error) {
    count('unavailable', stored === 'late' ? 'ack_deadline' : 'spool_failed');
    logger.error('push not stored in time; not acknowledged, the platform retries', {
      receiver: receiver.id,
      error: stored === 'late' ? 'ack deadline passed' : isKefuError(stored) ? stored.code : stored.message,
    });
    send(response, receiver.unavailableAnswer ?? DEFAULT_UNAVAILABLE);
    return;
  }
  count(stored.duplicate ? 'duplicate' : 'accepted');
  send(response, decision.ack);
  metrics.ackSeconds.observe({ receiver: receiver.id }, (Date.now() - receivedAt) / 1000);
  if (!stored.duplicate) {
    for (const record of records) {
      metrics.recordsIn.inc({ provider: record.provider, account: record.account, source: 'push' });
    }
    options.onStored?.(records);
  }
}

/** Builds the handler (see the module comment). Receivers' path prefixes must not collide. */
export function createServeHandler(options: ServeHandlerOptions): ServeHandler {
  const metrics = options.metrics ?? new ServeMetrics(() => options.spool.depth());
  const logger = options.logger ?? silentLogger;
  const operational = options.operationalEndpoints ?? true;
  const receivers = receiversByPrefix(options.receivers);
  let accepting = true;
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];
  const settle = () => {
    inFlight -= 1;
    if (inFlight === 0) {
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    }
  };
  const context: HandlerContext = {
    options,
    limits: { ...DEFAULTS, ...options.limits },
    metrics,
    logger,
    accepting: () => accepting,
  };

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://kefu.invalid');
    const routed = routeTo(receivers, url.pathname);
    if (!routed) {
      serveOperational(context, url.pathname, response)
        .then((served) => {
          if (!served) {
            request.resume();
            send(response, { status: 404, body: 'not found\n' });
          }
        })
        .catch(() => send(response, { status: 500, body: 'error\n' }));
      return;
    }
    inFlight += 1;
    servePush(context, request, response, routed.receiver, url, routed.subpath)
      .catch((error: unknown) => {
        metrics.pushes.inc({ receiver: routed.receiver.id, outcome: 'unavailable', reason: 'receiver_error' });
        logger.error('push receiver failed', {
          receiver: routed.receiver.id,
          error: isKefuError(error) ? error.code : String(error),
        });
        send(response, routed.receiver.unavailableAnswer ?? DEFAULT_UNAVAILABLE);
      })
      .finally(settle);
  };

  return {
    handler,
    metrics,
    owns: (path) =>
      routeTo(receivers, path) !== undefined || (operational && ['/healthz', '/readyz', '/metrics'].includes(path)),
    stopAccepting: () => {
      accepting = false;
    },
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))),
  };
}

/** Reads the whole body within `maxBytes` and `timeoutMs`; RequestRefused otherwise (status 0: no answer possible). */
function readBody(request: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) return Promise.reject(new RequestRefused(413, 'body_too_large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: RequestRefused) => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('error', onAborted);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(new RequestRefused(413, 'body_too_large'));
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onAborted = () => finish(new RequestRefused(0, 'truncated_body'));
    const timer = setTimeout(() => finish(new RequestRefused(408, 'body_timeout')), timeoutMs);
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('error', onAborted);
  });
}

/** The promise's value, its rejection as an Error, or `late` after `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | Error | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      promise.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes an answer; `close` ends the connection (after a refused body the rest is not read). */
function send(response: ServerResponse, answer: PushAnswer, close = false): void {
  if (response.headersSent || response.destroyed) return;
  const body = Buffer.from(answer.body, 'utf8');
  response.writeHead(answer.status, {
    'content-type': answer.contentType ?? 'text/plain; charset=utf-8',
    'content-length': body.length,
    ...(close ? { connection: 'close' } : {}),
  });
  response.end(body);
  if (close) response.once('finish', () => response.socket?.destroySoon?.());
}
