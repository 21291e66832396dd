import { type JsonValue, JsonValueSchema } from '@kefu/core';
import { z } from 'zod';

/**
 * Zod schemas of every Youmi payload kefu reads (seed 002 field names, verbatim).
 * Inbound schemas are lenient where the platform is known to vary (numbers as strings,
 * nullable extras) and strict where kefu depends on a field.
 */

/** An integer sent either as a JSON number or as a string of digits. */
const integerLike = z.union([
  z.int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);

/** The v2 response envelope: `succeed` decides success, not the HTTP status. */
export const YoumiEnvelopeSchema = z.looseObject({
  requestId: z.unknown().optional(),
  /** Youmi's numeric result code (0 = success). */
  errmsg: integerLike,
  succeed: z.boolean(),
  msgTime: z.string().nullish(),
  values: z.unknown(),
  errdesc: z.string().nullish(),
});
/** The v2 response envelope. */
export type YoumiEnvelope = z.infer<typeof YoumiEnvelopeSchema>;

/** The v1 response envelope (`Result` decides success). */
export const YoumiV1EnvelopeSchema = z.looseObject({
  Result: z.boolean(),
  ReturnCode: integerLike,
  Message: z.string().nullish(),
  Data: z.unknown(),
});
/** The v1 response envelope. */
export type YoumiV1Envelope = z.infer<typeof YoumiV1EnvelopeSchema>;

/** The OAuth2 token answer of the SSO host. */
export const YoumiTokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: integerLike.optional(),
});

/** One chat record of `POST /v2/ChatMess/GetChat` (seed 002, 17 fields). */
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
  merchantid: z.string().nullish(),
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
/** One raw chat record. */
export type YoumiChat = z.infer<typeof YoumiChatSchema>;

/** The body of GetChat: a list of chats. */
export const YoumiChatListSchema = z.array(YoumiChatSchema);

/** One chat exactly as received (JSON), validated against {@link YoumiChatSchema}. */
export type YoumiRawChat = z.input<typeof YoumiChatSchema> & { [field: string]: JsonValue };

/**
 * GetChat's list validated chat by chat but returned untouched, so records keep the
 * payload losslessly in `raw` (numbers sent as strings stay strings).
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
}) as unknown as z.ZodType<YoumiRawChat[]>;

/** One fan of `POST /v2/Friend/GetFansList`. */
export const YoumiFanSchema = z.looseObject({
  fansKey: z.string().min(1),
  nickname: z.string().nullish(),
  avatar: z.string().nullish(),
  wechatId: integerLike.optional(),
  wechatKey: z.string().nullish(),
  remark: z.string().nullish(),
  staffCode: z.string().nullish(),
  addTime: z.string().nullish(),
});
/** One fan. */
export type YoumiFan = z.infer<typeof YoumiFanSchema>;

/** A page of fans (a bare array, or `{ list, total }`). */
export const YoumiFanListSchema = z.union([
  z.array(YoumiFanSchema),
  z.looseObject({ list: z.array(YoumiFanSchema), total: integerLike.optional() }).transform((page) => page.list),
]);

/** A count answer (a bare number, or `{ count }` / `{ total }`). */
export const YoumiCountSchema = z.union([
  integerLike,
  z.looseObject({ count: integerLike }).transform((value) => value.count),
  z.looseObject({ total: integerLike }).transform((value) => value.total),
]);

/** An id answer (AddTodoReturnId, SaveRpaBulkSend): bare or `{ id }` / `{ taskId }`. */
export const YoumiIdSchema = z.union([
  integerLike.transform(String),
  z.string().min(1),
  z.looseObject({ id: z.union([z.string(), z.int()]) }).transform((value) => String(value.id)),
  z.looseObject({ taskId: z.union([z.string(), z.int()]) }).transform((value) => String(value.taskId)),
  z.looseObject({ todoId: z.union([z.string(), z.int()]) }).transform((value) => String(value.todoId)),
]);

/** A staff member (System calls). */
export const YoumiStaffSchema = z.looseObject({
  staffCode: z.string().min(1),
  staffName: z.string().nullish(),
  avatar: z.string().nullish(),
  groupId: integerLike.nullish(),
  departmentId: integerLike.nullish(),
  mobile: z.string().nullish(),
  /** 1 = active, 0 = disabled. */
  status: integerLike.nullish(),
});
/** A staff member. */
export type YoumiStaff = z.infer<typeof YoumiStaffSchema>;

/** A department (System). */
export const YoumiDepartmentSchema = z.looseObject({
  departmentId: integerLike,
  departmentName: z.string().nullish(),
  parentId: integerLike.nullish(),
});
/** A group of a department (System). */
export const YoumiGroupSchema = z.looseObject({
  groupId: integerLike,
  groupName: z.string().nullish(),
  departmentId: integerLike.nullish(),
});

/** A list of arbitrary objects, kept as the platform sent them (Report, Todo, Ad lists). */
export const YoumiObjectListSchema = z.union([
  z.array(z.record(z.string(), z.unknown())),
  z.looseObject({ list: z.array(z.record(z.string(), z.unknown())) }).transform((page) => page.list),
]);

/** Event types Youmi v2 publishes. */
export const YoumiEventTypeSchema = z.enum(['fansInfoChange', 'fansAttributionChange', 'chat', 'rpaTaskResult']);
/** A v2 event type. */
export type YoumiEventType = z.infer<typeof YoumiEventTypeSchema>;

/**
 * A v2 event body (事件发布格式): `{eventType, merchantId, appId?, msgTime, values}`.
 * Unknown event types are kept (type `string`) so a new platform event does not bounce.
 */
export const YoumiEventSchema = z.looseObject({
  eventType: z.string().min(1),
  merchantId: z.string().nullish(),
  /** Present on deliveries of `Public/subscribeEvent` subscriptions. */
  appId: z.string().nullish(),
  msgTime: z.string().nullish(),
  values: z.unknown(),
});
/** A v2 event. */
export type YoumiEvent = z.infer<typeof YoumiEventSchema>;

/** A v1 callback body `{Type, MerchantId, MsgTime, Values}`. */
export const YoumiV1CallbackSchema = z.looseObject({
  Type: z.union([z.string().min(1), z.int()]),
  MerchantId: z.string().nullish(),
  MsgTime: z.string().nullish(),
  Values: z.unknown(),
});
/** A v1 callback. */
export type YoumiV1Callback = z.infer<typeof YoumiV1CallbackSchema>;
