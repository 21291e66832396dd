import { z } from 'zod';

/**
 * zod schemas of every WeCom kf payload kefu sends or receives (wecom-kf.md §2–§6). Platform
 * field names stay verbatim here and only here. Requests are strict (a typo fails before the
 * call); responses are loose (unknown fields are kept, so `raw` stays lossless).
 */

/** A number the platform may send as a string. */
const Numeric = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform((value) => Number(value));

/** The error envelope every call may answer with (errcode 0 or absent = success). */
export const ErrorEnvelopeSchema = z.looseObject({
  errcode: Numeric.optional(),
  errmsg: z.string().optional(),
});

/** `GET /cgi-bin/gettoken` response (doc 91039): token ≤ 512 bytes, `expires_in` normally 7200. */
export const AccessTokenResponseSchema = z.looseObject({
  access_token: z.string().min(1).max(512),
  expires_in: Numeric,
});

/** An open_kfid (≤ 64 bytes, doc 94663). */
export const OpenKfIdSchema = z.string().min(1).max(64);
/** An external_userid (the customer; passed verbatim, EasyWeChat #2621). */
export const ExternalUserIdSchema = z.string().min(1);

// ---- kf/sync_msg (wecom-kf.md §3) ----

/** `kf/sync_msg` request: open_kfid is required by the 2024-01-31 doc (optional in older copies; A1: always sent). */
export const SyncMsgRequestSchema = z.strictObject({
  cursor: z.string().min(1).max(64).optional(),
  token: z.string().min(1).max(128).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  voice_format: z.union([z.literal(0), z.literal(1)]).optional(),
  open_kfid: OpenKfIdSchema,
});
/** A sync_msg request. */
export type SyncMsgRequest = z.input<typeof SyncMsgRequestSchema>;

/** One item of `msg_list`: the common fields are checked, the payload key (`text`, `event`, …) kept whole. */
export const SyncMsgItemSchema = z.looseObject({
  msgid: z.string().min(1),
  /** Absent when msgtype = event (inside `event` then). */
  open_kfid: z.string().optional(),
  external_userid: z.string().optional(),
  /** Unix seconds. */
  send_time: Numeric,
  /** 3 customer · 4 system event · 5 servicer via the WeCom client. */
  origin: Numeric,
  servicer_userid: z.string().optional(),
  msgtype: z.string().min(1),
});
/** One sync_msg item. */
export type SyncMsgItem = z.infer<typeof SyncMsgItemSchema>;

/** `kf/sync_msg` response: `has_more` is 0/1 on the wire (SKIT reads it as a bool: both accepted). */
export const SyncMsgResponseSchema = z.looseObject({
  next_cursor: z.string().optional().default(''),
  has_more: z.union([Numeric, z.boolean()]).transform((value) => value === true || value === 1),
  msg_list: z.array(z.unknown()).default([]),
});
/** A sync_msg page. */
export type SyncMsgResponse = z.infer<typeof SyncMsgResponseSchema>;

// ---- accounts (94661–94665) ----

/** `kf/account/add` request: name ≤ 16 characters and an uploaded avatar media_id ≤ 128 bytes. */
export const AccountAddRequestSchema = z.strictObject({
  name: z.string().min(1).max(16),
  media_id: z.string().min(1).max(128),
});
/** `kf/account/add` response. */
export const AccountAddResponseSchema = z.looseObject({ open_kfid: z.string().min(1) });
/** `kf/account/update` request. */
export const AccountUpdateRequestSchema = z.strictObject({
  open_kfid: OpenKfIdSchema,
  name: z.string().min(1).max(16).optional(),
  media_id: z.string().min(1).max(128).optional(),
});
/** `kf/account/list` request (POST with paging in the current doc; A11). */
export const AccountListRequestSchema = z.strictObject({
  offset: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(100).optional(),
});
/** One customer-service account. */
export const KfAccountSchema = z.looseObject({
  open_kfid: z.string().min(1),
  name: z.string().optional().default(''),
  avatar: z.string().optional(),
  manage_privilege: z.boolean().optional(),
});
/** A customer-service account. */
export type KfAccount = z.infer<typeof KfAccountSchema>;
/** `kf/account/list` response. */
export const AccountListResponseSchema = z.looseObject({ account_list: z.array(KfAccountSchema).default([]) });
/** `kf/add_contact_way` request: scene ≤ 32 bytes of `[0-9a-zA-Z_-]`. */
export const AddContactWayRequestSchema = z.strictObject({
  open_kfid: OpenKfIdSchema,
  scene: z
    .string()
    .regex(/^[0-9a-zA-Z_-]{1,32}$/, 'scene is 1–32 characters of [0-9a-zA-Z_-]')
    .optional(),
});
/** `kf/add_contact_way` response. */
export const AddContactWayResponseSchema = z.looseObject({ url: z.string().min(1) });

// ---- servicers (94645–94647) ----

/** `kf/servicer/add` and `kf/servicer/del` request: at least one non-empty list of ≤ 100. */
export const ServicerChangeRequestSchema = z
  .strictObject({
    open_kfid: OpenKfIdSchema,
    userid_list: z.array(z.string().min(1)).max(100).optional(),
    department_id_list: z.array(z.number().int().nonnegative()).max(100).optional(),
  })
  .refine((request) => (request.userid_list?.length ?? 0) + (request.department_id_list?.length ?? 0) > 0, {
    message: 'name at least one userid or department id',
    path: ['userid_list'],
  });
/** `kf/servicer/add|del` response: one result per user or department. */
export const ServicerChangeResponseSchema = z.looseObject({
  result_list: z
    .array(
      z.looseObject({
        userid: z.string().optional(),
        department_id: Numeric.optional(),
        errcode: Numeric.optional().default(0),
        errmsg: z.string().optional().default(''),
      }),
    )
    .default([]),
});
/** One servicer of `kf/servicer/list`: status **0 on duty / 1 stopped** (the event uses 1/2, A10). */
export const ServicerSchema = z.looseObject({
  userid: z.string().optional(),
  department_id: Numeric.optional(),
  status: Numeric.optional(),
  stop_type: Numeric.optional(),
});
/** `kf/servicer/list` response. */
export const ServicerListResponseSchema = z.looseObject({ servicer_list: z.array(ServicerSchema).default([]) });

// ---- session state (94669) ----

/** Session states: 0 untreated, 1 smart assistant, 2 waiting pool, 3 servicer, 4 ended. */
export const ServiceStateSchema = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);
/** `kf/service_state/get` request. */
export const ServiceStateGetRequestSchema = z.strictObject({
  open_kfid: OpenKfIdSchema,
  external_userid: ExternalUserIdSchema,
});
/** `kf/service_state/get` response (`servicer_userid` only in state 3). */
export const ServiceStateGetResponseSchema = z.looseObject({
  service_state: Numeric,
  servicer_userid: z.string().optional(),
});
/** `kf/service_state/trans` request: state 4 cannot be set by the API; state 3 needs a servicer. */
export const ServiceStateTransRequestSchema = z
  .strictObject({
    open_kfid: OpenKfIdSchema,
    external_userid: ExternalUserIdSchema,
    service_state: ServiceStateSchema,
    servicer_userid: z.string().min(1).optional(),
  })
  .refine((request) => request.service_state !== 3 || request.servicer_userid !== undefined, {
    message: 'servicer_userid is required to hand the session to a servicer (state 3)',
    path: ['servicer_userid'],
  });
/** `kf/service_state/trans` response: `msg_code` for send_msg_on_event when moved to 2/3 or 4. */
export const ServiceStateTransResponseSchema = z.looseObject({ msg_code: z.string().optional() });

// ---- messages (94677, 95122) ----

/** A send_msg msgid: ≤ 32 bytes of `[0-9a-zA-Z_-]`, unique in the account; omitted when unset (silenceper PR #563). */
const SendMsgIdSchema = z.string().regex(/^[0-9a-zA-Z_-]{1,32}$/, 'msgid is 1–32 characters of [0-9a-zA-Z_-]');
const MediaPayload = z.looseObject({ media_id: z.string().min(1) });
const MenuItemSchema = z.looseObject({ type: z.enum(['click', 'view', 'miniprogram', 'text']) });
const MsgMenuSchema = z.looseObject({
  head_content: z.string().optional(),
  list: z.array(MenuItemSchema).max(10).optional(),
  tail_content: z.string().optional(),
});

/** The message part of `kf/send_msg`: `{msgtype, <msgtype>: {…}}` for every documented type. */
export const KfOutgoingMessageSchema = z.discriminatedUnion('msgtype', [
  z.strictObject({ msgtype: z.literal('text'), text: z.looseObject({ content: z.string().min(1).max(2048) }) }),
  z.strictObject({ msgtype: z.literal('image'), image: MediaPayload }),
  z.strictObject({ msgtype: z.literal('voice'), voice: MediaPayload }),
  z.strictObject({ msgtype: z.literal('video'), video: MediaPayload }),
  z.strictObject({ msgtype: z.literal('file'), file: MediaPayload }),
  z.strictObject({
    msgtype: z.literal('link'),
    link: z.looseObject({ title: z.string().min(1), url: z.string().min(1), thumb_media_id: z.string().min(1) }),
  }),
  z.strictObject({
    msgtype: z.literal('miniprogram'),
    miniprogram: z.looseObject({ appid: z.string().min(1), thumb_media_id: z.string().min(1), pagepath: z.string() }),
  }),
  z.strictObject({ msgtype: z.literal('msgmenu'), msgmenu: MsgMenuSchema }),
  z.strictObject({
    msgtype: z.literal('location'),
    location: z.looseObject({ latitude: z.number(), longitude: z.number() }),
  }),
  z.strictObject({ msgtype: z.literal('ca_link'), ca_link: z.looseObject({ link_url: z.string().min(1) }) }),
]);
/** A message kefu can send. */
export type KfOutgoingMessage = z.infer<typeof KfOutgoingMessageSchema>;

/** `kf/send_msg` request. */
export const SendMsgRequestSchema = z.intersection(
  z.object({ touser: ExternalUserIdSchema, open_kfid: OpenKfIdSchema, msgid: SendMsgIdSchema.optional() }),
  KfOutgoingMessageSchema,
);
/** `kf/send_msg` and `kf/send_msg_on_event` response. */
export const SendMsgResponseSchema = z.looseObject({ msgid: z.string().min(1) });
/** `kf/send_msg_on_event` request: the event's code, one text or menu message. */
export const SendMsgOnEventRequestSchema = z.intersection(
  z.object({ code: z.string().min(1), msgid: SendMsgIdSchema.optional() }),
  z.discriminatedUnion('msgtype', [
    z.strictObject({ msgtype: z.literal('text'), text: z.looseObject({ content: z.string().min(1) }) }),
    z.strictObject({ msgtype: z.literal('msgmenu'), msgmenu: MsgMenuSchema }),
  ]),
);

// ---- customers and statistics ----

/** `kf/customer/batchget` request (list length undocumented; 100 is what SDK examples use). */
export const CustomerBatchGetRequestSchema = z.strictObject({
  external_userid_list: z.array(ExternalUserIdSchema).min(1).max(100),
  need_enter_session_context: z.union([z.literal(0), z.literal(1)]).optional(),
});
/** One customer of `kf/customer/batchget`. */
export const CustomerSchema = z.looseObject({
  external_userid: z.string().min(1),
  nickname: z.string().optional(),
  avatar: z.string().optional(),
  gender: Numeric.optional(),
  unionid: z.string().optional(),
  enter_session_context: z.looseObject({}).optional(),
});
/** `kf/customer/batchget` response. */
export const CustomerBatchGetResponseSchema = z.looseObject({
  customer_list: z.array(CustomerSchema).default([]),
  invalid_external_userid: z.array(z.string()).default([]),
});
/** `kf/get_corp_statistic` request: day-start timestamps, ≤ 31 days apart (doc 95489). */
export const CorpStatisticRequestSchema = z
  .strictObject({
    open_kfid: OpenKfIdSchema.optional(),
    start_time: z.number().int().positive(),
    end_time: z.number().int().positive(),
  })
  .refine((request) => request.end_time >= request.start_time, {
    message: 'end_time must not be before start_time',
    path: ['end_time'],
  })
  .refine((request) => request.end_time - request.start_time <= 31 * 86_400, {
    message: 'the range is at most 31 days',
    path: ['end_time'],
  });
/** `kf/get_servicer_statistic` request (doc 95490). */
export const ServicerStatisticRequestSchema = z
  .strictObject({
    open_kfid: OpenKfIdSchema.optional(),
    servicer_userid: z.string().min(1).optional(),
    start_time: z.number().int().positive(),
    end_time: z.number().int().positive(),
  })
  .refine((request) => request.end_time >= request.start_time && request.end_time - request.start_time <= 31 * 86_400, {
    message: 'end_time must be within 31 days after start_time',
    path: ['end_time'],
  });
/** `kf/get_corp_statistic` and `kf/get_servicer_statistic` response: one entry per day. */
export const StatisticResponseSchema = z.looseObject({
  statistic_list: z.array(z.looseObject({ stat_time: Numeric, statistic: z.looseObject({}) })).default([]),
});
