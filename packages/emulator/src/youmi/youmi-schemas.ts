import { z } from 'zod';

/**
 * Payload schemas of the emulated Youmi API: the raw records it serves (seed 002's
 * response schema, verbatim field names) and every request body it accepts.
 */

/** One chat record of `POST /v2/ChatMess/GetChat` (seed 002, 17 fields). */
export const youmiRawChatSchema = z.strictObject({
  ad_chatting_id: z.int(),
  ad_chatting_talter: z.string(),
  ad_chatting_issend: z.union([z.literal(0), z.literal(1)]),
  ad_chatting_resvred: z.string().nullable(),
  ad_wechat_id: z.int(),
  merchantid: z.string(),
  ad_chatting_updatetime: z.string(),
  ad_chatting_sate: z.int(),
  ad_sermsgid: z.string(),
  ad_chatting_time: z.string(),
  ad_chatting_content: z.string(),
  ad_staff_code: z.string().nullable(),
  ad_voice_txt: z.null(),
  ad_friend_photo: z.string(),
  ad_friend_name: z.string(),
  ad_expand: z.string(),
  ad_wechat_nober: z.string(),
});
/** A raw Youmi chat record exactly as the emulator serves it. */
export type YoumiRawChat = z.infer<typeof youmiRawChatSchema>;

/** One fan of `POST /v2/Friend/GetFansList`. */
export const youmiRawFanSchema = z.strictObject({
  fansKey: z.string(),
  nickname: z.string(),
  avatar: z.string(),
  wechatId: z.int(),
  wechatKey: z.string(),
  remark: z.string(),
  gender: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  region: z.string(),
  staffCode: z.string().nullable(),
  addTime: z.string(),
});
/** A raw Youmi fan exactly as the emulator serves it. */
export type YoumiRawFan = z.infer<typeof youmiRawFanSchema>;

/** The v2 response envelope (HTTP 200 even for business errors). */
export interface YoumiEnvelope<Values = unknown> {
  requestId: null;
  errmsg: number;
  succeed: boolean;
  msgTime: string;
  values: Values;
  errdesc: string | null;
}

/** The v1 response envelope. */
export interface YoumiV1Envelope<Data = unknown> {
  Result: boolean;
  ReturnCode: number;
  Message: string;
  Data: Data;
}

/** Event types pushed to registered callback URLs and subscriptions. */
export const youmiEventTypes = ['fansInfoChange', 'fansAttributionChange', 'chat', 'rpaTaskResult'] as const;
/** One of the Youmi event types. */
export type YoumiEventType = (typeof youmiEventTypes)[number];

const positiveIntegerText = /^[1-9]\d{0,8}$/;

/** A page parameter that must be a string of a positive integer (GetChat, per seed 002). */
const pageText = z
  .string()
  .regex(positiveIntegerText, { error: 'must be a string holding a positive integer, e.g. "50"' });

/** A page parameter accepted as a positive integer or a string of one (list calls). */
const pageLoose = z.union([z.int().positive(), pageText]).transform((value) => Number(value));

const timestampSeconds = z.int().min(0).max(99_999_999_999).nullish();
const wechatId = z.int().positive();
const fansKey = z.string().min(1).max(128);
const staffCode = z.string().min(1).max(64);

/** Body of `POST /v2/ChatMess/GetChat`. */
export const getChatRequestSchema = z.object({
  startTimestamp: timestampSeconds,
  endTimestamp: timestampSeconds,
  fansKey,
  wechatId,
  wechatKey: z.string().nullish(),
  minChattingId: z.int().min(0).nullish(),
  pageSize: pageText,
  pageIndex: pageText,
});

/** Body of `POST /v2/ChatMess/doSendPublicMes`. */
export const sendMessageRequestSchema = z.object({
  wechatId,
  fansKey,
  content: z.string().min(1).max(5000),
  /** Message type code; text (1) by default. */
  messageType: z.int().positive().optional(),
  /** Extra data for non-text types, stored URL-encoded as ad_chatting_resvred. */
  resvred: z.record(z.string(), z.unknown()).optional(),
  staffCode: staffCode.optional(),
});

/** Body of `POST /v2/ChatMess/applyTakeOver`. */
export const applyTakeOverRequestSchema = z.object({
  wechatId,
  fansKey,
  staffCode,
  reason: z.string().max(200).optional(),
});

/** Body of `POST /v2/ChatMess/terminateTakeOver`. */
export const terminateTakeOverRequestSchema = z.object({
  wechatId,
  fansKey,
  takeOverKey: z.string().min(1).optional(),
});

/** Body of `POST /v2/ChatMess/ActivationConversation`. */
export const activationRequestSchema = z.object({ wechatId, fansKey, staffCode });

/** Body of `POST /v2/ChatMess/sendNotice`. */
export const sendNoticeRequestSchema = z.object({
  staffCodes: z.array(staffCode).min(1).max(200),
  title: z.string().min(1).max(100),
  content: z.string().min(1).max(2000),
});

/** Body of the Report calls: a time range in seconds and an optional staff filter. */
export const reportRequestSchema = z
  .object({ startTimestamp: z.int().min(0), endTimestamp: z.int().min(0), staffCode: staffCode.optional() })
  .refine((body) => body.startTimestamp <= body.endTimestamp, {
    error: 'must not be before startTimestamp',
    path: ['endTimestamp'],
  });

/** Body of `POST /v2/System/GetGroupsByDepartment`. */
export const groupsRequestSchema = z.object({ departmentId: z.int().positive() });

/** Body of `POST /v2/System/GetStaffByGroup`. */
export const staffByGroupRequestSchema = z.object({ groupId: z.int().positive() });

/** Body of paged list calls (page parameters as numbers or strings). */
export const pageRequestSchema = z.object({ pageIndex: pageLoose.default(1), pageSize: pageLoose.default(20) });

/** Body of `POST /v2/Friend/GetFansList`. */
export const fansListRequestSchema = pageRequestSchema.extend({ wechatId });

/** Body of `POST /v2/Friend/GetFansCount`. */
export const fansCountRequestSchema = z.object({ wechatId });

/** Body of `POST /v2/Todo/AddTodo` and `AddTodoReturnId`. */
export const addTodoRequestSchema = z.object({
  wechatId,
  fansKey,
  staffCode,
  content: z.string().min(1).max(1000),
  remindTimestamp: z.int().min(0).optional(),
});

/** Body of `POST /v2/Todo/GetTodoList` and `GetTodoCount`. */
export const todoListRequestSchema = pageRequestSchema.extend({
  wechatId: wechatId.optional(),
  staffCode: staffCode.optional(),
});

/** Body of `POST /v2/BulkSend/SaveRpaBulkSend`. */
export const saveBulkSendRequestSchema = z.object({
  wechatId,
  fansKeys: z.array(fansKey).min(1).max(1000),
  content: z.string().min(1).max(5000),
  sendTimestamp: z.int().min(0).optional(),
});

/** Body of `POST /v2/BulkSend/DeleteRpaBulkSend`. */
export const deleteBulkSendRequestSchema = z.object({ taskId: z.string().min(1) });

const httpUrl = z
  .string()
  .max(2048)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error: 'must be an absolute http(s) URL' },
  );

/** Callback `type` codes accepted besides the event names (`all` / 0 = every event). */
export const callbackTypeCodes: Record<number, YoumiEventType | 'all'> = {
  0: 'all',
  1: 'chat',
  2: 'fansInfoChange',
  3: 'fansAttributionChange',
  4: 'rpaTaskResult',
};

/** Body of `POST /v2/Public/registerCallbackUrl`. */
export const registerCallbackRequestSchema = z.object({
  url: httpUrl,
  type: z.union([
    z.enum([...youmiEventTypes, 'all']),
    z
      .int()
      .min(0)
      .max(4)
      .transform((code) => callbackTypeCodes[code] as YoumiEventType | 'all'),
  ]),
});

/** Body of `POST /v2/Public/subscribeEvent`. */
export const subscribeEventRequestSchema = z.object({
  url: httpUrl,
  appId: z.string().min(1).max(128),
  /** Event types to receive; empty = all. */
  messageTypes: z.array(z.enum(youmiEventTypes)).max(youmiEventTypes.length),
});

/** Body of `POST /v2/Public/GetMerchantToken` (agents: a token scoped to a tenant). */
export const merchantTokenRequestSchema = z.object({ tenantId: z.string().min(1) });

/** Body of `POST /v1/ChatMess/GetChatList` (page parameters as numbers or strings). */
export const v1ChatListRequestSchema = z.object({
  wechatId,
  fansKey,
  startTimestamp: timestampSeconds,
  endTimestamp: timestampSeconds,
  minChattingId: z.int().min(0).nullish(),
  pageIndex: pageLoose.default(1),
  pageSize: pageLoose.default(20),
});

/** Body of `POST /v1/Public/SetCallbackUrl`. */
export const v1CallbackRequestSchema = z.object({ url: httpUrl });

/** Form fields of the OAuth2 token call. */
export const tokenFormSchema = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  scope: z.string().optional(),
});
