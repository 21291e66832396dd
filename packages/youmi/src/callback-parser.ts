import { firstZodIssue, isKefuError, type KefuRecord } from '@kefu/core';
import { readBeijingTime } from './beijing-time.js';
import { normalizeChat } from './chat-normalizer.js';
import { youmiError } from './errors.js';
import { pushAnswer } from './youmi-envelope.js';
import { V1_CALLBACK_TYPE_NAMES, YoumiChatSchema, YoumiEventSchema, YoumiV1CallbackSchema } from './youmi-schemas.js';

/**
 * Reads Youmi push bodies (platforms/youmi-api.md): v1 callbacks (回调数据, §3) `{Type (int 0–8),
 * MerchantId (string or number), MsgTime (Unix seconds), Values}`, answered `{Result: true,
 * ReturnCode: 200, Message: "操作完成"}`; and v2 events, whose payload the docs do not show
 * (§2.9): read leniently as `{eventType, merchantId?, appId?, msgTime?, values}` and
 * answered HTTP 200. Chats (v2 `chat` events, and v1 Type 1 / 4 whose Values are chats in
 * GetChat's shape — those Values tables were not seen) become the same KefuRecords (same ids)
 * as the backfill stream. Authentication is the receivers' business (callback-auth.ts).
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

/** Options of {@link YoumiCallbackParser}. */
export interface YoumiCallbackParserOptions {
  /** Offset of zone-less chat times, minutes east of UTC (default +480, China time). */
  timeZoneOffsetMinutes?: number;
  /** Only chats of these wechatIds become records (default: all). */
  wechatIds?: readonly number[];
}

/** Validates push bodies (see the module comment); shared by both Youmi receivers. */
export class YoumiCallbackParser {
  readonly #options: { timeZoneOffsetMinutes: number; wechatIds?: readonly number[] };

  constructor(options: YoumiCallbackParserOptions = {}) {
    this.#options = {
      timeZoneOffsetMinutes: options.timeZoneOffsetMinutes ?? 480,
      ...(options.wechatIds ? { wechatIds: options.wechatIds } : {}),
    };
  }

  /** Validates one push body: the event (when valid) and the answer the platform expects. */
  read(body: unknown): { event?: YoumiReceivedEvent; status: number; body: unknown } {
    try {
      const event = this.#parse(body);
      return { event, status: 200, body: pushAnswer(event.format) };
    } catch (error) {
      const message = isKefuError(error) || error instanceof Error ? error.message : String(error);
      const v1 = typeof body === 'object' && body !== null && 'Type' in body;
      return { status: 400, body: pushAnswer(v1 ? 'v1' : 'v2', message) };
    }
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
