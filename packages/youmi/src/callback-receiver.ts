import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type KefuRecord, registerSecret } from '@kefu/core';
import { filter, merge, Observable, Subject, type Subscription } from 'rxjs';
import { authenticateYoumiCallback, type YoumiCallbackRefusal } from './callback-auth.js';
import { YoumiCallbackParser, type YoumiReceivedEvent } from './callback-parser.js';
import {
  type YoumiCallbacksConfig,
  type YoumiCallbacksConfigInput,
  YoumiCallbacksConfigSchema,
} from './callbacks-config.js';
import { youmiError } from './errors.js';
import { pushAnswer } from './youmi-envelope.js';

/**
 * Receives Youmi pushes in an application's own server (for `kefu serve`, see
 * {@link YoumiPushReceiver}, which also spools before acknowledging). Youmi signs nothing, so
 * the receiver requires the same authentication as `kefu serve` (callback-auth.ts): a
 * `pathSecret` as the last path segment of the registered URL and/or a gateway's HMAC
 * signature. A forged or unsigned request gets 401/403 and publishes nothing; an invalid body
 * gets 400 naming the field; every accepted push is published on
 * {@link YoumiCallbackReceiver.events}, its chats as the same KefuRecords (same ids) as the
 * backfill stream, so both merge without duplicates.
 */

export type { YoumiReceivedEvent } from './callback-parser.js';
export { v1CallbackTypeName } from './callback-parser.js';

/** Options of {@link YoumiCallbackReceiver}. */
export interface YoumiCallbackReceiverOptions {
  /** Required authentication: `pathSecret`, `hmacSecret` or both (as a Youmi provider's `callbacks` block). */
  callbacks: YoumiCallbacksConfigInput;
  /** The clock, ms (default Date.now): the HMAC timestamp window. */
  now?: () => number;
  /** Offset of zone-less chat times, minutes east of UTC (default +480, China time). */
  timeZoneOffsetMinutes?: number;
  /** Largest body accepted, bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Only chats of these wechatIds become records (default: all). */
  wechatIds?: readonly number[];
}

/** The standalone server started by {@link YoumiCallbackReceiver.listen}. */
export interface ListeningReceiver {
  /** `http://host:port/` plus `{pathSecret}` when one is set: register this as the callback URL. */
  url: string;
  close(): Promise<void>;
}

/**
 * A Youmi callback receiver: a plain `(req, res)` handler (mount it on node:http,
 * Express, Fastify's raw request, …), or a small server of its own via `listen()`.
 *
 * @example
 * ```ts
 * const receiver = new YoumiCallbackReceiver({ callbacks: { pathSecret: process.env.YOUMI_PATH_SECRET } });
 * const { url } = await receiver.listen({ port: 8080 });
 * await youmi.client.registerCallbackUrl(url, 100);
 * receiver.records.subscribe((record) => console.log(record.id, record.text));
 * ```
 */
export class YoumiCallbackReceiver {
  readonly #events = new Subject<YoumiReceivedEvent>();
  readonly #auth: YoumiCallbacksConfig;
  readonly #parser: YoumiCallbackParser;
  readonly #maxBodyBytes: number;
  readonly #now: () => number;
  readonly #servers = new Set<Server>();

  /** Every accepted push, hot: subscribe before registering the callback URL. */
  readonly events: Observable<YoumiReceivedEvent> = this.#events.asObservable();
  /** The records of `chat` events, hot. */
  readonly records: Observable<KefuRecord>;

  /** Creates a receiver; nothing listens until `listen()` or `handler` is mounted. YOUMI_CONFIG_INVALID without authentication. */
  constructor(options: YoumiCallbackReceiverOptions) {
    const auth = YoumiCallbacksConfigSchema.safeParse(options?.callbacks);
    if (!auth.success) {
      throw youmiError(
        'YOUMI_CONFIG_INVALID',
        `YoumiCallbackReceiver callbacks (pathSecret and/or hmacSecret required): ${auth.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    this.#auth = auth.data;
    registerSecret(this.#auth.pathSecret);
    registerSecret(this.#auth.hmacSecret);
    this.#parser = new YoumiCallbackParser(options);
    this.#maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.#now = options.now ?? Date.now;
    this.records = new Observable<KefuRecord>((subscriber) =>
      this.#events.subscribe({
        next: (event) => {
          for (const record of event.records) subscriber.next(record);
        },
        complete: () => subscriber.complete(),
      }),
    );
  }

  /** The request handler: POST a push body, get the acknowledgement (or 400 / 405 / 413). */
  readonly handler = (request: IncomingMessage, response: ServerResponse): void => {
    this.#handle(request, response).catch(() => {
      if (!response.headersSent) reply(response, 500, { succeed: false, errdesc: 'receiver error' });
      else response.destroy();
    });
  };

  /**
   * Authenticates and validates one push and publishes it; returns what to answer (401/403
   * for a forged or unsigned push, 400 for an invalid body). For frameworks that read the
   * body themselves: pass the raw body, as signed, and the request path.
   */
  accept(request: { path: string; headers: IncomingMessage['headers']; body: Buffer }): {
    status: number;
    body: unknown;
  } {
    const refusal = authenticateYoumiCallback(
      this.#auth,
      { subpath: this.#subpathOf(request.path), headers: request.headers, body: request.body },
      this.#now(),
    );
    if (refusal) return refused(refusal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.body.toString('utf8'));
    } catch {
      return { status: 400, body: pushAnswer('v2', 'body is not JSON') };
    }
    const answer = this.#parser.read(parsed);
    if (answer.event) this.#events.next(answer.event);
    return { status: answer.status, body: answer.body };
  }

  /** Validates one push body without authenticating or publishing it: the event (when valid) and the answer. */
  read(body: unknown): { event?: YoumiReceivedEvent; status: number; body: unknown } {
    return this.#parser.read(body);
  }

  /** Starts a standalone server (default 127.0.0.1, random port) serving {@link handler}. */
  async listen(options: { port?: number; host?: string } = {}): Promise<ListeningReceiver> {
    const server = createServer(this.handler);
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', (cause) =>
        reject(
          youmiError('YOUMI_RECEIVER_FAILED', `cannot listen on ${host}:${options.port ?? 0}: ${cause.message}`, {
            cause,
          }),
        ),
      );
      server.listen(options.port ?? 0, host, () => resolve());
    });
    this.#servers.add(server);
    const address = server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      url: `http://${shownHost}:${address.port}/${this.#auth.pathSecret ?? ''}`,
      close: () => this.#closeServer(server),
    };
  }

  /** Stops standalone servers and completes the observables; idempotent. */
  async close(): Promise<void> {
    await Promise.all([...this.#servers].map((server) => this.#closeServer(server)));
    this.#events.complete();
  }

  async #closeServer(server: Server): Promise<void> {
    if (!this.#servers.delete(server)) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** With a path secret, the last path segment is checked against it, wherever the handler is mounted. */
  #subpathOf(path: string): string {
    if (this.#auth.pathSecret === undefined) return '';
    const pathname = path.split('?')[0] ?? '';
    return `/${pathname.slice(pathname.lastIndexOf('/') + 1)}`;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST') {
      reply(response, 405, { succeed: false, errdesc: 'Youmi callbacks are POSTed' }, { allow: 'POST' });
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > this.#maxBodyBytes) {
        reply(response, 413, { succeed: false, errdesc: `body larger than ${this.#maxBodyBytes} bytes` });
        request.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const answer = this.accept({ path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks) });
    reply(response, answer.status, answer.body);
  }
}

/** The answer to a refused push: its status and `{succeed: false, errdesc, reason}` (the reason is typed). */
function refused(refusal: YoumiCallbackRefusal): { status: number; body: unknown } {
  return { status: refusal.status, body: { succeed: false, errdesc: refusal.message, reason: refusal.reason } };
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  response.end(payload);
}

/**
 * Merges a backfill stream with live records, dropping records whose id was already
 * emitted. Ids are remembered in a bounded window (default 100 000 ids, oldest evicted
 * first), so memory stays bounded on endless live streams.
 */
export function mergeWithoutDuplicates(
  backfill: Observable<KefuRecord>,
  live: Observable<KefuRecord>,
  options: { window?: number } = {},
): Observable<KefuRecord> {
  const windowSize = options.window ?? 100_000;
  return new Observable<KefuRecord>((subscriber) => {
    const seen = new Set<string>();
    const order: string[] = [];
    let head = 0;
    const subscription: Subscription = merge(backfill, live)
      .pipe(
        filter((record) => {
          if (seen.has(record.id)) return false;
          seen.add(record.id);
          order.push(record.id);
          if (order.length - head > windowSize) {
            seen.delete(order[head] as string);
            head += 1;
            // Compact the queue now and then instead of shifting on every record.
            if (head > windowSize) {
              order.splice(0, head);
              head = 0;
            }
          }
          return true;
        }),
      )
      .subscribe(subscriber);
    return subscription;
  });
}
