import { type JsonValue, JsonValueSchema } from '@kefu/core';
import { z } from 'zod';
import { integerLike } from './youmi-envelope.js';

/**
 * Zod schemas of every Youmi payload kefu reads, field names verbatim from
 * platforms/youmi-api.md (§ noted per schema). Where the docs show a response, its
 * fields are checked; where the response was not seen, the schema is lenient: unknown
 * fields pass through and only what kefu relies on is checked (the docs page says so).
 */

/** One chat record of `POST /v2/ChatMess/GetChat` (seed 002, 17 fields, §2.1). */
export const YoumiChatSchema = z.looseObject({
  /** Chat id: the incremental cursor (`minChattingId`). */
  ad_chatting_id: integerLike,
  /** The fan's key. */
  ad_chatting_talter: z.string().min(1),
  /** 1 = the operating account sent it, 0 = the fan did. */
  ad_chatting_issend: integerLike,
  /** URL-encoded JSON with the type's extra data. */
  ad_chatting_resvred: z.string().nullish(),
  ad_wechat_id: integerLike,
  merchantid: z.union([z.string(), z.number()]).nullish(),
  ad_chatting_updatetime: z.string().nullish(),
  /** Message type code (see chat-normalizer.ts). */
  ad_chatting_sate: integerLike,
  ad_sermsgid: z.string().nullish(),
  ad_chatting_time: z.string().min(1),
  ad_chatting_content: z.string().nullish(),
  ad_staff_code: z.string().nullish(),
  ad_voice_txt: z.string().nullish(),
  ad_friend_photo: z.string().nullish(),
  ad_friend_name: z.string().nullish(),
  ad_expand: z.string().nullish(),
  ad_wechat_nober: z.string().nullish(),
});
/** One raw chat. */
export type YoumiChat = z.infer<typeof YoumiChatSchema>;

/** The body of GetChat: a list of chats (`values` is a required array, seed 002). */
export const YoumiChatListSchema = z.array(YoumiChatSchema);

/** One chat exactly as received (JSON), validated against {@link YoumiChatSchema}. */
export type YoumiRawChat = z.input<typeof YoumiChatSchema> & { [field: string]: JsonValue };

/**
 * GetChat's list validated chat by chat but returned untouched, so records keep the
 * payload losslessly in `raw` (numbers sent as strings stay strings).
 *
 * (The cast is a narrow seam: superRefine proves every item is a chat, which zod's types
 * cannot express; the items stay the JSON values as sent, for a lossless `raw`.)
 */
export const YoumiRawChatListSchema = z.array(JsonValueSchema).superRefine((items, context) => {
  items.forEach((item, index) => {
    const result = YoumiChatSchema.safeParse(item);
    if (!result.success) {
      for (const issue of result.error.issues) {
        context.addIssue({ code: 'custom', message: issue.message, path: [index, ...issue.path] });
      }
    }
  });
}) as unknown as z.ZodType<YoumiRawChat[]>; // seam: see above

/** A number given as seconds, either as a number or a string of digits. */
const seconds = z.union([z.number().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

/**
 * The answer of the token call `POST …/connect/token` (§1.1: the page's example is `{}`).
 * Read as the standard OAuth2 answer `/connect/token` endpoints give (inferred):
 * `access_token` is required, the rest passes through.
 */
export const YoumiTokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().nullish(),
  expires_in: seconds.nullish(),
  scope: z.string().nullish(),
});
/** The token call's answer. */
export type YoumiTokenResponse = z.infer<typeof YoumiTokenResponseSchema>;

/** Field names that may hold the v1 token in `values` (§1.2: the rest of `values` was not seen). */
export const V1_TOKEN_FIELDS = ['access_token', 'accessToken', 'AccessToken', 'token', 'Token'] as const;

/**
 * `values` of the v1 token answer (§1.2): `{expires_in: 1593503171, …}`; the token's field
 * name was not seen, so the first string among {@link V1_TOKEN_FIELDS} is taken.
 */
export const YoumiV1TokenValuesSchema = z
  .looseObject({ expires_in: seconds.nullish() })
  .transform((values, context) => {
    for (const field of V1_TOKEN_FIELDS) {
      const token = values[field];
      if (typeof token === 'string' && token !== '') return { token, expiresIn: values.expires_in ?? undefined };
    }
    context.addIssue({
      code: 'custom',
      message: `no token in values (looked for ${V1_TOKEN_FIELDS.join(', ')}; fields seen: ${Object.keys(values).join(', ') || 'none'})`,
    });
    return z.NEVER;
  });

/** A department of `GET /v2/System/GetDepartList` (§2.3, the documented example). */
export const YoumiDepartmentSchema = z.looseObject({ departid: integerLike, departname: z.string().nullish() });
/** A department. */
export type YoumiDepartment = z.infer<typeof YoumiDepartmentSchema>;

/** A row of an answer whose shape was not seen: any object, kept as sent. */
export const YoumiRowSchema = z.record(z.string(), z.unknown());
/** A row of an unseen answer. */
export type YoumiRow = z.infer<typeof YoumiRowSchema>;

/** A list whose rows were not seen: an array of objects, or `null` / absent read as empty. */
export const YoumiRowListSchema = z
  .array(YoumiRowSchema)
  .nullish()
  .transform((rows) => rows ?? []);

/** A count whose answer was not seen: a number (or digits), or `{count}` / `{total}`. */
export const YoumiCountSchema = z.union([
  integerLike,
  z.looseObject({ count: integerLike }).transform((value) => value.count),
  z.looseObject({ total: integerLike }).transform((value) => value.total),
]);

/** An id answer whose shape was not seen (AddRecordNew, SaveBulkSendTask): bare, or `{id}` and the like. */
export const YoumiIdSchema = z.union([
  integerLike.transform(String),
  z.string().min(1),
  z.looseObject({}).transform((value, context) => {
    for (const field of ['id', 'Id', 'taskId', 'task_id', 'chargeDaffairesId']) {
      const id = value[field];
      if (typeof id === 'string' || typeof id === 'number') return String(id);
    }
    context.addIssue({ code: 'custom', message: 'no id in the answer' });
    return z.NEVER;
  }),
]);

/** Field names that may hold a fan's key in a GetFansList row (§2.4: the response was not seen). */
export const FAN_KEY_FIELDS = [
  'fansKey',
  'fansKe',
  'ad_relation_talter',
  'ad_chatting_talter',
  'ad_friend_wenober',
] as const;

/** Field names that may hold a staff member's code and name in a GetStaffList row (§2.2–2.3: `ad_staff_code`, `ad_staff_name`). */
export const STAFF_CODE_FIELDS = ['ad_staff_code', 'staffCode', 'staff_code', 'StaffCode'] as const;
/** See {@link STAFF_CODE_FIELDS}. */
export const STAFF_NAME_FIELDS = ['ad_staff_name', 'staffName', 'staff_name', 'StaffName'] as const;

/** The first non-empty string (or number, as text) among `fields` of a row. */
export function firstText(row: YoumiRow, fields: readonly string[]): string | undefined {
  for (const field of fields) {
    const value = row[field];
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

/** Event types Youmi v2 publishes (§2.9: only these four names were seen). */
export const YoumiEventTypeSchema = z.enum(['fansInfoChange', 'fansAttributionChange', 'chat', 'rpaTaskResult']);
/** A v2 event type. */
export type YoumiEventType = z.infer<typeof YoumiEventTypeSchema>;

/**
 * A v2 event body. §2.9 shows only the event names, not the payload: this is the inferred
 * shape `{eventType, merchantId?, appId?, msgTime?, values}`, lenient (unknown event types
 * and fields pass, `merchantId` may be a number).
 */
export const YoumiEventSchema = z.looseObject({
  eventType: z.string().min(1),
  merchantId: z.union([z.string(), z.number()]).nullish(),
  appId: z.string().nullish(),
  msgTime: z.union([z.string(), z.number()]).nullish(),
  values: z.unknown(),
});
/** A v2 event. */
export type YoumiEvent = z.infer<typeof YoumiEventSchema>;

/** The v1 callback `Type` codes (§3 回调数据). */
export const V1_CALLBACK_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'tag or remark saved'],
  [1, 'send message'],
  [2, 'customer profile changed'],
  [3, 'group operation'],
  [4, 'get chat messages'],
  [5, 'get friend list'],
  [6, 'device abnormal'],
  [7, 'comment or like on moments'],
  [8, 'reply to a comment on own moments'],
]);

/**
 * A v1 callback body (§3): `Type` int (0–8 documented; a newer code passes), `MerchantId`
 * a string that the example gives as the number 9527, `MsgTime` Unix seconds (long), `Values`
 * an object.
 */
export const YoumiV1CallbackSchema = z.looseObject({
  Type: z.int().min(0),
  MerchantId: z.union([z.string(), z.number()]).nullish(),
  MsgTime: z.union([z.int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]).nullish(),
  Values: z.unknown(),
});
/** A v1 callback. */
export type YoumiV1Callback = z.infer<typeof YoumiV1CallbackSchema>;
