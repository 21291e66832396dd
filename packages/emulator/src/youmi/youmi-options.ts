import { zodIssuePath } from '@kefu/core';
import { z } from 'zod';
import { stableId } from '../seeded-random.js';
import { youmiEmulatorError } from './youmi-errors.js';

/**
 * The readings the Youmi docs leave open (platforms/youmi-api.md §2.1 "Not documented",
 * §1.1–1.2): one knob per legitimate reading, so a client can be tested against each.
 * Every default is the most literal reading of the docs; the README lists the sources.
 */
export interface YoumiReadings {
  /**
   * How `ad_chatting_id` is assigned. `time` (default): one sequence per account in time
   * order, so ids of different fans interleave; `fan`: ids ascend per fan only (each fan's
   * ids in a block of their own), so a fan's new chat may have a smaller id than another
   * fan's old one. Either way a chat written later gets a larger id than every chat of its
   * fan that already exists ("用于增量同步": the cursor exists for incremental sync).
   */
  chatIds?: 'time' | 'fan';
  /** Order of GetChat's rows: by `ad_chatting_id` (default), by time, or newest first. */
  chatOrder?: 'id' | 'time' | 'time-desc';
  /** Whether GetChat's `minChattingId` keeps chats with id > it (default) or >= it. */
  minChattingId?: 'exclusive' | 'inclusive';
  /** Whether `startTimestamp` keeps chats at or after it (default) or strictly after it. */
  startBound?: 'inclusive' | 'exclusive';
  /** Whether `endTimestamp` keeps chats at or before it (default) or strictly before it. */
  endBound?: 'inclusive' | 'exclusive';
  /**
   * How `ad_chatting_time`, `ad_chatting_updatetime` and `msgTime` are written:
   * `space` (default) `2026-11-20 10:00:00`; `iso` `2026-11-20T10:00:00+08:00`;
   * `iso7` `2026-11-20T10:00:00.1234567+08:00`; `fraction7` `2026-11-20 10:00:00.1234567`;
   * `slash` `2026/11/20 10:00:00` with one-digit month, day and hour. Formats with
   * fractions give chats sub-second times.
   */
  timeFormat?: 'space' | 'iso' | 'iso7' | 'fraction7' | 'slash';
  /** How `ad_chatting_resvred` is URL-encoded: `percent` (space = `%20`, default) or `form` (space = `+`). */
  resvredEncoding?: 'percent' | 'form';
  /**
   * How a v2 call with an invalid bearer token is refused: `errmsg` (default) an envelope with
   * `errmsg: 10003` (the only documented code list), or `http401` a bare HTTP 401 as
   * ASP.NET's bearer middleware answers.
   */
  v2TokenRejection?: 'errmsg' | 'http401';
  /** v1 token answer's `expires_in`: `epoch` (default, as the example) absolute Unix seconds, or `seconds` a lifetime. */
  v1ExpiresIn?: 'epoch' | 'seconds';
  /**
   * GetFansList rows (the response was not seen): `relation` (default) snake-case
   * `ad_relation_*` columns with the fan key in `ad_relation_talter`; `camel` the request's
   * own names (`fansKey`, `fansName`, …).
   */
  fansListShape?: 'relation' | 'camel';
}

/** Options of the emulated Youmi platform (`EmulatorOptions.youmi`). */
export interface YoumiEmulatorOptions extends YoumiReadings {
  /** Operating accounts: a count (ids 10001, 10002, …) or explicit ids. Default 2. */
  wechatIds?: number | number[];
  /** Fans per operating account. Default 50. */
  fansPerAccount?: number;
  /** Average chat records per fan (each fan gets 25 %–175 % of it). Default 40. */
  chatsPerFan?: number;
  /** Length of the history in days, ending at the clock's start. Default 30. */
  days?: number;
  /** Lifetime of v2 bearer tokens in seconds. Default 7200. */
  tokenLifetimeSeconds?: number;
  /** Lifetime of v1 access tokens in seconds. Default 604800 (7 days, as the docs' example). */
  v1TokenLifetimeSeconds?: number;
  /** Tenant ids accepted in the `TenantId` header (agents). Default: one derived from the seed. */
  tenantIds?: string[];
  /** OAuth2 client id. Default: derived from the seed. */
  clientId?: string;
  /** OAuth2 client secret. Default: derived from the seed. */
  clientSecret?: string;
  /** Largest page GetChat / list calls return; larger `pageSize` values are capped. Default 100. */
  maxPageSize?: number;
  /** Share of generated chats with a type code unknown to the docs (77777). Default 0.01. */
  unknownTypeRate?: number;
  /**
   * Late uploads per account: chats with an old time (within the history) that appear only
   * when the clock reaches their arrival time, with a new id. Default 0. Arrivals are spread
   * over `lateUploadWindowMs` after the clock's start.
   */
  lateUploads?: number;
  /** Window after the clock's start over which seeded late uploads arrive, ms. Default 3 600 000. */
  lateUploadWindowMs?: number;
  /** Retries of a failed callback delivery. Default 4. */
  callbackRetries?: number;
  /** First retry delay of callback deliveries (doubles each time), ms. Default 100. */
  callbackRetryDelayMs?: number;
  /** Timeout of one callback delivery, ms. Default 5000. */
  callbackTimeoutMs?: number;
}

const positiveInt = z.int().positive();

/** The readings' schema (also used by the control endpoint that changes them at run time). */
export const youmiReadingsSchema = z.strictObject({
  chatIds: z.enum(['time', 'fan']).optional(),
  chatOrder: z.enum(['id', 'time', 'time-desc']).optional(),
  minChattingId: z.enum(['exclusive', 'inclusive']).optional(),
  startBound: z.enum(['inclusive', 'exclusive']).optional(),
  endBound: z.enum(['inclusive', 'exclusive']).optional(),
  timeFormat: z.enum(['space', 'iso', 'iso7', 'fraction7', 'slash']).optional(),
  resvredEncoding: z.enum(['percent', 'form']).optional(),
  v2TokenRejection: z.enum(['errmsg', 'http401']).optional(),
  v1ExpiresIn: z.enum(['epoch', 'seconds']).optional(),
  fansListShape: z.enum(['relation', 'camel']).optional(),
});

const optionsSchema = youmiReadingsSchema.extend({
  wechatIds: z.union([positiveInt.max(1000), z.array(positiveInt).min(1).max(1000)]).optional(),
  fansPerAccount: positiveInt.max(1_000_000).optional(),
  chatsPerFan: positiveInt.max(1_000_000).optional(),
  days: positiveInt.max(3650).optional(),
  tokenLifetimeSeconds: positiveInt.optional(),
  v1TokenLifetimeSeconds: positiveInt.optional(),
  tenantIds: z.array(z.string().min(1)).optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(8).optional(),
  maxPageSize: positiveInt.max(10_000).optional(),
  unknownTypeRate: z.number().min(0).max(1).optional(),
  lateUploads: z.int().min(0).max(100_000).optional(),
  lateUploadWindowMs: z.int().min(0).optional(),
  callbackRetries: z.int().min(0).max(20).optional(),
  callbackRetryDelayMs: z.int().min(0).max(60_000).optional(),
  callbackTimeoutMs: positiveInt.max(600_000).optional(),
});

/** The readings with every default applied. */
export type ResolvedYoumiReadings = Required<YoumiReadings>;

/** The default of every reading: the most literal one (README "Readings"). */
export const DEFAULT_YOUMI_READINGS: ResolvedYoumiReadings = {
  chatIds: 'time',
  chatOrder: 'id',
  minChattingId: 'exclusive',
  startBound: 'inclusive',
  endBound: 'inclusive',
  timeFormat: 'space',
  resvredEncoding: 'percent',
  v2TokenRejection: 'errmsg',
  v1ExpiresIn: 'epoch',
  fansListShape: 'relation',
};

/** Options with every default applied and every derived credential computed. */
export interface ResolvedYoumiOptions {
  seed: string;
  wechatIds: number[];
  fansPerAccount: number;
  chatsPerFan: number;
  days: number;
  tokenLifetimeSeconds: number;
  v1TokenLifetimeSeconds: number;
  tenantIds: string[];
  clientId: string;
  clientSecret: string;
  merchantId: string;
  v1AppId: string;
  v1AppKey: string;
  maxPageSize: number;
  unknownTypeRate: number;
  lateUploads: number;
  lateUploadWindowMs: number;
  callbackRetries: number;
  callbackRetryDelayMs: number;
  callbackTimeoutMs: number;
  readings: ResolvedYoumiReadings;
}

/** Throws EMULATOR_YOUMI_OPTIONS_INVALID naming the first bad field of a zod failure. */
export function invalidYoumiOptions(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): never {
  const issue = issues[0];
  const where = issue?.path.length ? `youmi.${zodIssuePath(issue)}` : 'youmi';
  throw youmiEmulatorError('EMULATOR_YOUMI_OPTIONS_INVALID', `${where}: ${issue?.message ?? 'invalid'}`, {
    details: { field: where },
  });
}

/** Validates the options and applies defaults; credentials are pure functions of the seed. */
export function resolveYoumiOptions(seed: string | number, options: YoumiEmulatorOptions = {}): ResolvedYoumiOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) invalidYoumiOptions(parsed.error.issues);
  const o = parsed.data;
  const seedText = String(seed);
  const wechatIds = Array.isArray(o.wechatIds)
    ? o.wechatIds
    : Array.from({ length: o.wechatIds ?? 2 }, (_, index) => 10001 + index);
  if (new Set(wechatIds).size !== wechatIds.length) {
    throw youmiEmulatorError('EMULATOR_YOUMI_OPTIONS_INVALID', 'youmi.wechatIds: ids must be unique');
  }
  const days = o.days ?? 30;
  const chatsPerFan = o.chatsPerFan ?? 40;
  // Each fan's chats must fit one per second into its session slots (see youmi-data.ts).
  if (Math.ceil(chatsPerFan * 1.75) * 4 > days * 86_400) {
    throw youmiEmulatorError(
      'EMULATOR_YOUMI_OPTIONS_INVALID',
      `youmi.chatsPerFan: ${chatsPerFan} chats per fan do not fit into ${days} day(s); raise days or lower chatsPerFan`,
    );
  }
  const readings: ResolvedYoumiReadings = { ...DEFAULT_YOUMI_READINGS };
  for (const key of Object.keys(DEFAULT_YOUMI_READINGS) as Array<keyof ResolvedYoumiReadings>) {
    if (o[key] !== undefined) Object.assign(readings, { [key]: o[key] });
  }
  return {
    seed: seedText,
    wechatIds,
    fansPerAccount: o.fansPerAccount ?? 50,
    chatsPerFan,
    days,
    tokenLifetimeSeconds: o.tokenLifetimeSeconds ?? 7200,
    v1TokenLifetimeSeconds: o.v1TokenLifetimeSeconds ?? 604_800,
    tenantIds: o.tenantIds ?? [`T${stableId(10, seedText, 'youmi-tenant')}`],
    clientId: o.clientId ?? `ym_${stableId(16, seedText, 'youmi-client-id')}`,
    clientSecret: o.clientSecret ?? stableId(32, seedText, 'youmi-client-secret'),
    merchantId: String(9000 + (Number.parseInt(stableId(6, seedText, 'youmi-merchant'), 16) % 1000)),
    v1AppId: String(70_000_000 + (Number.parseInt(stableId(8, seedText, 'youmi-v1-app'), 16) % 10_000_000)),
    v1AppKey: stableId(32, seedText, 'youmi-v1-key'),
    maxPageSize: o.maxPageSize ?? 100,
    unknownTypeRate: o.unknownTypeRate ?? 0.01,
    lateUploads: o.lateUploads ?? 0,
    lateUploadWindowMs: o.lateUploadWindowMs ?? 3_600_000,
    callbackRetries: o.callbackRetries ?? 4,
    callbackRetryDelayMs: o.callbackRetryDelayMs ?? 100,
    callbackTimeoutMs: o.callbackTimeoutMs ?? 5000,
    readings,
  };
}
