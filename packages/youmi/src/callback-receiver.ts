import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstZodIssue, isKefuError, type KefuRecord } from '@kefu/core';
import { filter, merge, Observable, Subject, type Subscription } from 'rxjs';
import { readBeijingTime } from './beijing-time.js';
import { normalizeChat } from './chat-normalizer.js';
import { youmiError } from './errors.js';
import { pushAnswer } from './youmi-envelope.js';
import { V1_CALLBACK_TYPE_NAMES, YoumiChatSchema, YoumiEventSchema, YoumiV1CallbackSchema } from './youmi-schemas.js';

/**
 * Receives Youmi pushes (platforms/youmi-api.md): v1 callbacks (回调数据, §3) `{Type (int 0–8),
 * MerchantId (string or number), MsgTime (Unix seconds), Values}`, answered `{Result: true,
 * ReturnCode: 200, Message: "操作完成"}`; and v2 events, whose payload the docs do not show
 * (§2.9): read leniently as `{eventType, merchantId?, appId?, msgTime?, values}` and
 * answered HTTP 200. Invalid bodies get HTTP 400 naming the field; every accepted push is
 * published on {@link YoumiCallbackReceiver.events}. Chats (v2 `chat` events, and v1 Type 1 /
 * 4 whose Values are chats in GetChat's shape — those Values tables were not seen) become the
 * same KefuRecords (same ids) as the backfill stream, so both merge without duplicates.
 */

/** v1 callback Types whose Values may carry chats (1 send message, 4 get chat messages). */
const V1_CHAT_TYPES: ReadonlySet<number> = new Set([1, 4]);

/** One accepted push. */
export interface YoumiReceivedEvent {
  /** Which push format it came in. */
  format: 'v2' | 'v1';
  /**
   * v2: `chat`, `fansInfoChange`, `fansAttributionChange`, `rpaTaskResult`, or a newer type
   * kept as is; v1: `chat` for Type 1 / 4 carrying chats, else `v1:<Type>`.
   */
  eventType: string;
  /** v1 only: the callback's `Type` (0–8, see `V1_CALLBACK_TYPE_NAMES`). */
  v1Type?: number;
  /** The merchant, as text (v1 sends a number). */
  merchantId?: string;
  /** The subscription's app id (v2 `subscribeEvent` deliveries). */
  appId?: string;
  /** Platform time of the push, ISO-8601 UTC, when it was readable (v1: Unix seconds; v2: Beijing time). */
  msgTime?: string;
  /** The event's values as received. */
  values: unknown;
  /** For `chat` events: the chats as KefuRecords (same ids as GetChat records). */
  records: KefuRecord[];
}

/** Options of {@link YoumiCallbackReceiver}. */
export interface YoumiCallbackReceiverOptions {
  /** Offset of zone-less chat times, minutes east of UTC (default +480, China time). */
  timeZoneOffsetMinutes?: number;
  /** Largest body accepted, bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Only chats of these wechatIds become records (default: all). */
  wechatIds?: readonly number[];
}

/** The standalone server started by {@link YoumiCallbackReceiver.listen}. */
export interface ListeningReceiver {
  /** `http://host:port/`: register this (plus any path) as the callback URL. */
  url: string;
  close(): Promise<void>;
}

/**
 * A Youmi callback receiver: a plain `(req, res)` handler (mount it on node:http,
 * Express, Fastify's raw request, …), or a small server of its own via `listen()`.
 *
 * @example
 * ```ts
 * const receiver = new YoumiCallbackReceiver();
 * const { url } = await receiver.listen({ port: 8080 });
 * await youmi.client.registerCallbackUrl(`${url}youmi`, 100);
 * receiver.records.subscribe((record) => console.log(record.id, record.text));
 * ```
 */
export class YoumiCallbackReceiver {
  readonly #events = new Subject<YoumiReceivedEvent>();
  readonly #options: Required<Omit<YoumiCallbackReceiverOptions, 'wechatIds'>> & { wechatIds?: readonly number[] };
  readonly #servers = new Set<Server>();

  /** Every accepted push, hot: subscribe before registering the callback URL. */
  readonly events: Observable<YoumiReceivedEvent> = this.#events.asObservable();
  /** The records of `chat` events, hot. */
  readonly records: Observable<KefuRecord>;

  /** Creates a receiver; nothing listens until `listen()` or `handler` is mounted. */
  constructor(options: YoumiCallbackReceiverOptions = {}) {
    this.#options = {
      timeZoneOffsetMinutes: options.timeZoneOffsetMinutes ?? 480,
      maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
      ...(options.wechatIds ? { wechatIds: options.wechatIds } : {}),
    };
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
   * Validates one push body and publishes it; returns what to answer. Exposed for
   * frameworks that parse bodies themselves.
   */
  accept(body: unknown): { status: number; body: unknown } {
    try {
      const event = this.#parse(body);
      this.#events.next(event);
      return { status: 200, body: pushAnswer(event.format) };
    } catch (error) {
      const message = isKefuError(error) || error instanceof Error ? error.message : String(error);
      const v1 = typeof body === 'object' && body !== null && 'Type' in body;
      return { status: 400, body: pushAnswer(v1 ? 'v1' : 'v2', message) };
    }
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
      url: `http://${shownHost}:${address.port}/`,
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
      if (size > this.#options.maxBodyBytes) {
        reply(response, 413, { succeed: false, errdesc: `body larger than ${this.#options.maxBodyBytes} bytes` });
        request.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      reply(response, 400, pushAnswer('v2', 'body is not JSON'));
      return;
    }
    const answer = this.accept(body);
    reply(response, answer.status, answer.body);
  }

  #parse(body: unknown): YoumiReceivedEvent {
    const isV1 = typeof body === 'object' && body !== null && 'Type' in body && !('eventType' in body);
    const event = isV1 ? fromV1(body) : fromV2(body);
    const wanted = this.#options.wechatIds;
    const chats = Array.isArray(event.values) ? event.values : [event.values];
    if (event.format === 'v2' && event.eventType === 'chat') {
      for (const chat of chats) {
        // normalizeChat validates the chat (YOUMI_BAD_ENVELOPE names the bad field).
        const record = normalizeChat(chat, { timeZoneOffsetMinutes: this.#options.timeZoneOffsetMinutes });
        if (!wanted || wanted.includes(Number(record.account))) event.records.push(record);
      }
    } else if (event.format === 'v1' && V1_CHAT_TYPES.has(event.v1Type ?? -1)) {
      // The v1 Values tables were not seen: only Values in GetChat's shape become records.
      for (const chat of chats.filter((value) => YoumiChatSchema.safeParse(value).success)) {
        const record = normalizeChat(chat, { timeZoneOffsetMinutes: this.#options.timeZoneOffsetMinutes });
        if (!wanted || wanted.includes(Number(record.account))) event.records.push(record);
      }
      if (event.records.length > 0) event.eventType = 'chat';
    }
    return event;
  }
}

/** Throws YOUMI_CALLBACK_INVALID naming the first bad field. */
function invalid(kind: string, error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): never {
  throw youmiError('YOUMI_CALLBACK_INVALID', `not a Youmi ${kind}: ${firstZodIssue(error)}`);
}

/** A push time as ISO-8601 UTC: Unix seconds (v1) or a Youmi time text (v2); undefined when unreadable. */
function isoTime(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const ms = typeof value === 'number' ? value * 1000 : readBeijingTime(value);
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

/** A v2 event body → a received event. */
function fromV2(body: unknown): YoumiReceivedEvent {
  const parsed = YoumiEventSchema.safeParse(body);
  if (!parsed.success) invalid('v2 event', parsed.error);
  const event = parsed.data;
  const msgTime = isoTime(event.msgTime);
  return {
    format: 'v2',
    eventType: event.eventType,
    ...(event.merchantId !== null && event.merchantId !== undefined ? { merchantId: String(event.merchantId) } : {}),
    ...(event.appId ? { appId: event.appId } : {}),
    ...(msgTime ? { msgTime } : {}),
    values: event.values,
    records: [],
  };
}

/** A v1 callback body → a received event. */
function fromV1(body: unknown): YoumiReceivedEvent {
  const parsed = YoumiV1CallbackSchema.safeParse(body);
  if (!parsed.success) invalid('v1 callback', parsed.error);
  const callback = parsed.data;
  const msgTime = isoTime(callback.MsgTime);
  return {
    format: 'v1',
    eventType: `v1:${callback.Type}`,
    v1Type: callback.Type,
    ...(callback.MerchantId !== null && callback.MerchantId !== undefined
      ? { merchantId: String(callback.MerchantId) }
      : {}),
    ...(msgTime ? { msgTime } : {}),
    values: callback.Values,
    records: [],
  };
}

/** What a v1 callback Type means (§3), for logs; undefined for a Type the docs do not list. */
export function v1CallbackTypeName(type: number): string | undefined {
  return V1_CALLBACK_TYPE_NAMES.get(type);
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
