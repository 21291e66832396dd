import { z } from 'zod';

/**
 * Payload schemas of the emulated Youmi API: the raw records it serves (seed 002's
 * response schema, verbatim field names) and every request body it accepts, each as
 * platforms/youmi-api.md documents it (section named per schema). Fields the reference
 * marks R are required; bodies are `object|null` (an empty body is `{}`) and unknown
 * fields pass, as ASP.NET model binding lets them.
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

/**
 * A fan as the emulator holds it (`youmi.fans(wechatId)`); GetFansList renders it in the
 * shape of the `fansListShape` reading (the response was not seen, §2.4).
 */
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
/** A fan as the emulator holds it. */
export type YoumiRawFan = z.infer<typeof youmiRawFanSchema>;

/** The envelope of v2 and v1 alike (§1.1, §1.2): `succeed` decides. */
export interface YoumiEnvelope<Values = unknown> {
  requestId?: string | null;
  errmsg: number;
  succeed: boolean;
  msgTime: string;
  values: Values;
  errdesc: string | null;
}

/** Event types of 事件发布格式说明 (§2.9), pushed to registered and subscribed URLs. */
export const youmiEventTypes = ['fansInfoChange', 'fansAttributionChange', 'chat', 'rpaTaskResult'] as const;
/** One of the Youmi event types. */
export type YoumiEventType = (typeof youmiEventTypes)[number];

/** A string of a positive integer: seed 002 types GetChat's `pageSize` / `pageIndex` as strings. */
const pageText = z
  .string()
  .regex(/^[1-9]\d{0,8}$/, { error: 'must be a string holding a positive integer, e.g. "50"' });

/** An integer field that .NET model binding also accepts as a numeric string. */
const integer = z.union([
  z.int(),
  z
    .string()
    .regex(/^-?\d{1,15}$/)
    .transform(Number),
]);
const timestampSeconds = z.int().min(0).max(99_999_999_999).nullish();
const wechatId = z.int().positive();

/** Body of `POST /v2/ChatMess/GetChat` (§2.1, seed 002). */
export const getChatRequestSchema = z.looseObject({
  startTimestamp: timestampSeconds,
  endTimestamp: timestampSeconds,
  fansKey: z.string().min(1).max(128),
  wechatId,
  wechatKey: z.string().nullish(),
  minChattingId: z.int().min(0).nullish(),
  pageSize: pageText,
  pageIndex: pageText,
});

/** Body of `POST /v2/ChatMess/doSendPublicMes` (§2.1: PascalCase examples; no field table). */
export const sendMessageRequestSchema = z.looseObject({
  /** 运营机ID: shown as a placeholder string, so a number or a numeric string. */
  WechatId: integer,
  /** The fan (发给哪个用户). */
  ToUserName: z.string().min(1).max(128),
  /** 0 = friend (inferred). */
  RelationType: integer.optional(),
  MsgType: z.string().min(1),
  Text: z.string().max(5000).optional(),
  Url: z.string().max(2048).optional(),
  Format: z.string().max(32).optional(),
  Description: z.string().max(500).optional(),
});

/** Body of `POST /v2/ChatMess/applyTakeOver` (§2.1: snake_case, every field optional). */
export const applyTakeOverRequestSchema = z.looseObject({
  wechat_key: z.string().nullish(),
  friend_key: z.string().nullish(),
  apply_key: z.string().nullish(),
  apply_name: z.string().nullish(),
  apply_reason: z.string().nullish(),
  apply_source: z.string().nullish(),
});

/** Body of `POST /v2/ChatMess/ActivationConversation` (§2.1). */
export const activationRequestSchema = z.looseObject({
  ad_friend_wenober: z.string().nullish(),
  ad_original_nober: z.string().nullish(),
  ad_wechat_id: integer.nullish(),
  staff_code: z.string().nullish(),
  enforceAttribution: z.union([z.literal(0), z.literal(1)]),
  content: z.string(),
  activationType: integer.optional(),
  switchSession: integer.optional(),
});

/** Body of `POST /v2/Report/GetDataByStaffCustomer` (§2.2). */
export const staffCustomerReportRequestSchema = z.looseObject({
  startDate: z.string().nullish(),
  endDate: z.string().nullish(),
  orderKey: z.enum(['ad_staff_name', 'depart_name', 'depart_group_name']).nullish(),
  orderType: z.enum(['desc', 'asc']),
  staffCode: z.string().nullish(),
  departId: integer.optional(),
  departGroupId: integer.optional(),
  show: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  staffState: z.boolean(),
  pageIndex: integer.optional(),
  pageSize: integer.optional(),
});

/** Body of `POST /v2/Report/GetActivationListByStaff` (§2.2). */
export const activationReportRequestSchema = z.looseObject({
  time: z.int().min(0),
  wechat_lei: integer.optional(),
  ad_staff_code: z.string().nullish(),
  ad_departid: z.string(),
  ad_departgroupid: z.string().nullish(),
});

/** Body of `POST /v2/System/GetDepartGroupList` (§2.3). */
export const departGroupsRequestSchema = z.looseObject({ departId: integer });

/** Body of `POST /v2/System/GetStaffList` (§2.3). */
export const staffListRequestSchema = z.looseObject({
  departId: integer,
  departGroupId: integer,
  staffState: z.union([z.literal(0), z.literal(1)]),
});

/** Body of `POST /v2/Friend/GetFansList` (§2.4: paging fields not seen; `pageIndex`/`pageSize` as elsewhere). */
export const fansListRequestSchema = z.looseObject({
  wechatId,
  wechatKey: z.string().nullish(),
  fansKe: z.string().nullish(),
  fansName: z.string().nullish(),
  pageIndex: integer.default(1),
  pageSize: integer.default(20),
});

/** Body of `POST /v2/Friend/GetFansCount` (§2.4: `fansKe` marked required; empty = every fan). */
export const fansCountRequestSchema = z.looseObject({
  wechatId: wechatId.optional(),
  wechatKey: z.string().nullish(),
  fansKe: z.string(),
  fansName: z.string().nullish(),
});

/** Body of `POST /v2/Todo/AddRecord` and `AddRecordNew` (§2.5: PascalCase, every field optional). */
export const addTodoRequestSchema = z.looseObject({
  Weixin: z.string().nullish(),
  From: integer.optional(),
  SffId: z.union([z.string(), z.int()]).nullish(),
  RemindTitle: z.string().nullish(),
  FollowupsiTuation: z.string().nullish(),
  RemindTime: z.string().nullish(),
  IsAlways: integer.optional(),
  Recipient: z.array(z.string()).nullish(),
  AdWecharId: integer.optional(),
  LevelColor: z.string().nullish(),
  LevelName: z.string().nullish(),
  EventType: integer.optional(),
});

/** Body of `POST /v2/Todo/GetChargeDaffairesList` / `…Count` (§2.5). */
export const todoListRequestSchema = z.looseObject({
  startTimestamp: timestampSeconds,
  endTimestamp: timestampSeconds,
  remindStartTimestamp: timestampSeconds,
  remindEndTimestamp: timestampSeconds,
  createStaff: z.string().nullish(),
  remindStaff: z.string().nullish(),
  WecharId: integer.nullish(),
  wechatNober: z.string().nullish(),
  usersate: z.union([z.literal(-1), z.literal(0), z.literal(1)]).default(-1),
  chargeDaffairesId: integer.nullish(),
  pageIndex: integer.default(1),
  pageSize: integer.default(20),
});

/** Body of `POST /v2/AdManage/GetAdList` / `GetAdCount` (§2.6: `name` required; paging required for the list). */
export const adListRequestSchema = z.looseObject({
  code: z.string().nullish(),
  name: z.string(),
  minCosts: z.number().nullish(),
  maxCosts: integer.nullish(),
  startTime: z.string().nullish(),
  endTime: z.string().nullish(),
  state: integer.default(-1),
  buildType: integer.default(-1),
  pageIndex: integer.optional(),
  pageSize: integer.optional(),
});

/** Body of `POST /v2/BulkSend/SaveBulkSendTask` (§2.7: only `task_content` was seen). */
export const saveBulkSendRequestSchema = z.looseObject({
  task_content: z
    .array(z.looseObject({ type: z.string().regex(/^\d+$/), data: z.record(z.string(), z.unknown()) }))
    .min(1),
});

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

/** Body of `POST /v2/Public/registerCallbackUrl` (§2.8: `type` 100 = 企客宝, 200 = 金桥). */
export const registerCallbackRequestSchema = z.looseObject({
  url: httpUrl,
  type: z.union([z.literal(100), z.literal(200)]).optional(),
});

/** Body of `POST /v2/Public/subscribeEvent` (§2.8; the allowed messageTypes are the four event names, inferred). */
export const subscribeEventRequestSchema = z.looseObject({
  url: httpUrl,
  appId: z.string().min(1).max(128),
  messageTypes: z.array(z.enum(youmiEventTypes)).max(youmiEventTypes.length),
});

/** Form fields of the token call `POST /connect/token` (§1.1: all four marked optional, two fixed values). */
export const tokenFormSchema = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  scope: z.string().optional(),
});

/** The fixed `scope` of the token call (§1.1). */
export const YOUMI_SCOPE = 'Ls.Qkl.PublicApi';

/** JSON body of the v1 token call (§1.2: Timestamp is an int in the table, a string in the example). */
export const v1TokenRequestSchema = z.looseObject({
  AppId: z.union([z.string(), z.int()]).optional(),
  Nonce: z.union([z.string(), z.int()]).optional(),
  Timestamp: z.union([z.int(), z.string()]).optional(),
  Signature: z.string().optional(),
});

/** Body of `POST /v1/friend/Add_Friend` (§3). */
export const v1AddFriendRequestSchema = z.looseObject({
  ReceiVerId: z.union([z.string().min(1), z.int()]),
  Wechat_Moble: z.string().min(1),
  GreeTing: z.string().min(1),
  PcKid: z.string().min(1),
  sffcode: z.string().nullish(),
});
