import { z } from 'zod';

/**
 * The normalized record model. The zod schemas are the single source of truth: the
 * TypeScript types are inferred from them, and every provider validates what it emits.
 */

/** Who produced a record: the customer (inbound), the business side (outbound) or the platform (system). */
export const RecordDirectionSchema = z.enum(['inbound', 'outbound', 'system']);
/** Who produced a record. */
export type RecordDirection = z.infer<typeof RecordDirectionSchema>;

/**
 * What a record carries. `event` records describe session life-cycle changes (see
 * {@link SessionEventSchema}); `unknown` keeps platform types kefu does not know yet
 * (their payload stays in `raw`), so nothing is dropped.
 */
export const RecordKindSchema = z.enum([
  'text',
  'image',
  'voice',
  'video',
  'file',
  'link',
  'location',
  'card',
  'miniprogram',
  'quote',
  'call',
  'group_invite',
  'chat_history',
  'payment',
  'channels_video',
  'live',
  'notice',
  'todo',
  'takeover',
  'event',
  'unknown',
]);
/** What a record carries. */
export type RecordKind = z.infer<typeof RecordKindSchema>;

/** Session life-cycle events (WeChat opercodes 1000–1005, kf_*_session pushes, Youmi takeover). */
export const SessionEventSchema = z.enum([
  'session_waiting',
  'session_accepted',
  'session_initiated',
  'session_closed',
  'session_grabbed',
  'session_created',
  'session_transferred',
  'other',
]);
/** A session life-cycle event. */
export type SessionEvent = z.infer<typeof SessionEventSchema>;

/** A media attachment: the platform's key or URL plus what is known about it. */
export const MediaSchema = z.object({
  /** Platform key to download the media (Youmi `downloadKey`, `imgs[KEY]` …). */
  key: z.string().optional(),
  url: z.string().optional(),
  /** File name or title. */
  name: z.string().optional(),
  sizeBytes: z.number().nonnegative().optional(),
  durationSeconds: z.number().nonnegative().optional(),
  thumbUrl: z.string().optional(),
  /** Where kefu archived the media (a media store location: a path or an object URL), when it does. */
  archived: z.string().optional(),
});
/** A media attachment. */
export type Media = z.infer<typeof MediaSchema>;

/** A shared link (also locations, invitations, channels videos and live streams use title/url). */
export const LinkSchema = z.object({
  title: z.string().optional(),
  url: z.string().optional(),
  description: z.string().optional(),
  thumbUrl: z.string().optional(),
});
/** A shared link. */
export type Link = z.infer<typeof LinkSchema>;

/** A shared location. */
export const LocationSchema = z.object({
  title: z.string().optional(),
  address: z.string().optional(),
  url: z.string().optional(),
  thumbUrl: z.string().optional(),
});
/** A shared location. */
export type Location = z.infer<typeof LocationSchema>;

/** A shared contact card (or channels/live profile). */
export const CardSchema = z.object({
  nickname: z.string().optional(),
  avatarUrl: z.string().optional(),
  description: z.string().optional(),
});
/** A shared contact card. */
export type Card = z.infer<typeof CardSchema>;

/** A mini-program page. */
export const MiniProgramSchema = z.object({
  title: z.string().optional(),
  appName: z.string().optional(),
  appId: z.string().optional(),
  pagePath: z.string().optional(),
  iconUrl: z.string().optional(),
  coverKey: z.string().optional(),
});
/** A mini-program page. */
export type MiniProgram = z.infer<typeof MiniProgramSchema>;

/** The message a record quotes (replies to). */
export const QuoteSchema = z.object({
  /** The quoted message's kind, when the platform says. */
  kind: RecordKindSchema.optional(),
  /** The platform's own type code of the quoted message. */
  platformType: z.string().optional(),
  text: z.string().optional(),
  title: z.string().optional(),
  url: z.string().optional(),
  mediaKey: z.string().optional(),
});
/** The message a record quotes. */
export type Quote = z.infer<typeof QuoteSchema>;

/** Any JSON value: what `raw` holds, losslessly. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** True when `value` is a JSON value: null, a boolean, a finite number, a string, or arrays and plain objects of them. */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (depth > 64 || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) {
    if (!isJsonValue((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/**
 * Schema for any JSON value. A hand-written check rather than `z.json()`: every record's
 * `raw` passes through it, and the recursive zod union cost ten times more than the rest
 * of the record's validation together (measured: 120 k vs 1.2 M records/s).
 */
export const JsonValueSchema: z.ZodType<JsonValue> = z.custom<JsonValue>((value) => isJsonValue(value), {
  message: 'must be a JSON value (null, boolean, finite number, string, array or plain object)',
});

/**
 * One normalized record.
 *
 * `id` is unique per provider + account and stable across re-reads (derived
 * deterministically where the platform gives none). `at` is an ISO-8601 UTC timestamp.
 * `raw` is the platform payload as received (integers beyond 2^53 kept as strings).
 */
export const KefuRecordSchema = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  account: z.string().min(1),
  /** The customer's id on the platform (WeChat openid, Youmi fan key). */
  customer: z.string().min(1),
  /** The agent's account, when an agent took part. */
  agent: z.string().min(1).optional(),
  direction: RecordDirectionSchema,
  kind: RecordKindSchema,
  event: SessionEventSchema.optional(),
  text: z.string().optional(),
  media: MediaSchema.optional(),
  link: LinkSchema.optional(),
  location: LocationSchema.optional(),
  card: CardSchema.optional(),
  miniprogram: MiniProgramSchema.optional(),
  quote: QuoteSchema.optional(),
  at: z.iso.datetime({ offset: false }),
  raw: JsonValueSchema,
});
/** One normalized record. */
export type KefuRecord = z.infer<typeof KefuRecordSchema>;

const DIRECTIONS: ReadonlySet<unknown> = new Set(RecordDirectionSchema.options);
const KINDS: ReadonlySet<unknown> = new Set(RecordKindSchema.options);
const EVENTS: ReadonlySet<unknown> = new Set(SessionEventSchema.options);
/** The one timestamp shape `Date.prototype.toISOString` produces (years 0000–9999). */
const ISO_MILLIS_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

/**
 * A check of the common record shape without zod: true only when
 * {@link KefuRecordSchema} certainly accepts `value` (a property test holds it to that).
 * False means "ask the schema": records with attachments, other timestamp shapes, or
 * errors. Validating every record with zod cost more than normalizing it.
 */
export function isPlainValidRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const at = record.at;
  return (
    isNonEmptyString(record.id) &&
    isNonEmptyString(record.provider) &&
    isNonEmptyString(record.account) &&
    isNonEmptyString(record.customer) &&
    (record.agent === undefined || isNonEmptyString(record.agent)) &&
    DIRECTIONS.has(record.direction) &&
    KINDS.has(record.kind) &&
    (record.event === undefined || EVENTS.has(record.event)) &&
    (record.text === undefined || typeof record.text === 'string') &&
    record.media === undefined &&
    record.link === undefined &&
    record.location === undefined &&
    record.card === undefined &&
    record.miniprogram === undefined &&
    record.quote === undefined &&
    typeof at === 'string' &&
    isRealIsoMillis(at) &&
    isJsonValue(record.raw)
  );
}

/** A real calendar date and time in `toISOString` form (rejects 2026-02-30 and 24:00), without allocating. */
function isRealIsoMillis(at: string): boolean {
  if (!ISO_MILLIS_UTC.test(at)) return false;
  const digit = (index: number) => at.charCodeAt(index) - 48;
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const month = digit(5) * 10 + digit(6);
  const day = digit(8) * 10 + digit(9);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  return digit(11) * 10 + digit(12) < 24 && digit(14) < 6 && digit(17) < 6;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Identifies one record stream: a provider and one of its accounts. */
export const StreamKeySchema = z.object({
  provider: z.string().min(1),
  account: z.string().min(1),
});
/** Identifies one record stream. */
export type StreamKey = z.infer<typeof StreamKeySchema>;

/** The string form of a stream key, `provider/account`, used as a map and storage key. */
export function streamId(key: StreamKey): string {
  return `${key.provider}/${key.account}`;
}
