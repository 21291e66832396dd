import { z } from 'zod';

/**
 * zod schemas of every WeChat customer-service payload kefu sends or receives (see
 * API-NOTES "Endpoints"). Platform field names stay verbatim here and only here.
 * Response objects are loose: unknown fields are kept, so `raw` stays lossless.
 */

/** A number the platform sometimes sends as a string (or as a string beyond 2^53). */
const Numeric = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform((value) => Number(value));

/** The error envelope every call may answer with (errcode 0 or absent = success). */
export const ErrorEnvelopeSchema = z.looseObject({
  errcode: Numeric.optional(),
  errmsg: z.string().optional(),
});

/** `/cgi-bin/token` and `/cgi-bin/stable_token` response. */
export const AccessTokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: Numeric,
});
/** An access-token response. */
export type AccessTokenResponse = z.infer<typeof AccessTokenResponseSchema>;

/** One agent of `getkflist`. */
export const KfAccountSchema = z.looseObject({
  kf_account: z.string(),
  kf_nick: z.string().optional().default(''),
  kf_id: z.union([z.string(), z.number()]).optional(),
  kf_headimgurl: z.string().optional(),
  kf_wx: z.string().optional(),
  invite_wx: z.string().optional(),
  invite_expire_time: Numeric.optional(),
  invite_status: z.string().optional(),
});
/** One agent as WeChat lists it. */
export type KfAccount = z.infer<typeof KfAccountSchema>;

/** `getkflist` response. */
export const KfListResponseSchema = z.looseObject({ kf_list: z.array(KfAccountSchema).default([]) });

/** One online agent of `getonlinekflist` (`kf_id` is a string in one doc, a number in another). */
export const KfOnlineSchema = z.looseObject({
  kf_account: z.string(),
  status: Numeric.optional(),
  kf_id: z.union([z.string(), z.number()]).optional(),
  accepted_case: Numeric.optional().default(0),
});
/** One online agent. */
export type KfOnline = z.infer<typeof KfOnlineSchema>;

/** `getonlinekflist` response. */
export const KfOnlineListResponseSchema = z.looseObject({ kf_online_list: z.array(KfOnlineSchema).default([]) });

/** Agent account `prefix@oa_wechat_id`: prefix ≤ 10 chars [A-Za-z0-9_] (API-NOTES). */
export const KfAccountNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,10}@\S+$/, 'must be `prefix@official_account_id` with a prefix of 1–10 [A-Za-z0-9_]');

/** Agent nickname: at most 16 characters. */
export const KfNicknameSchema = z.string().min(1).max(16);

/** `kfaccount/add` and `kfaccount/update` request. */
export const KfAccountWriteRequestSchema = z.object({ kf_account: KfAccountNameSchema, nickname: KfNicknameSchema });

/** `kfaccount/inviteworker` request. */
export const KfInviteRequestSchema = z.object({ kf_account: KfAccountNameSchema, invite_wx: z.string().min(1) });

/** An openid: what identifies a customer. */
export const OpenIdSchema = z.string().min(1).max(128);

/** `kfsession/create` and `kfsession/close` request. */
export const KfSessionRequestSchema = z.object({ kf_account: KfAccountNameSchema, openid: OpenIdSchema });

/** `kfsession/getsession` response (empty `kf_account` = nobody serves the customer). */
export const KfSessionResponseSchema = z.looseObject({
  createtime: Numeric.optional(),
  kf_account: z.string().optional().default(''),
});

/** `kfsession/getsessionlist` response. */
export const KfSessionListResponseSchema = z.looseObject({
  sessionlist: z.array(z.looseObject({ createtime: Numeric, openid: z.string() })).default([]),
});

/** `kfsession/getwaitcase` response. */
export const KfWaitCaseResponseSchema = z.looseObject({
  count: Numeric.optional().default(0),
  waitcaselist: z.array(z.looseObject({ latest_time: Numeric, openid: z.string() })).default([]),
});

/** One record of any of the three record APIs. */
export const RawRecordSchema = z.looseObject({
  openid: z.string(),
  opercode: Numeric,
  text: z.string().optional().default(''),
  time: Numeric,
  worker: z.string().optional().default(''),
});
/** One record as the platform returns it (validated). */
export type RawRecord = z.infer<typeof RawRecordSchema>;

/**
 * True when `item` already is what {@link RawRecordSchema} would return: every field
 * present with its final type, so nothing to coerce or default. Record pages check
 * this first and call the schema only for the rest (coercions, defaults, messages):
 * zod's copy of each of 10 000 records per page was the largest cost of a page.
 */
export function isCanonicalRawRecord(item: unknown): item is RawRecord {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return false;
  const record = item as Record<string, unknown>;
  return (
    typeof record.openid === 'string' &&
    typeof record.text === 'string' &&
    typeof record.worker === 'string' &&
    Number.isFinite(record.opercode) &&
    Number.isFinite(record.time)
  );
}

/** `msgrecord/getmsglist` request: window ≤ 24 h, `number` ≤ 10 000, `msgid` from 1. */
export const MsgListRequestSchema = z.object({
  starttime: z.number().int().nonnegative(),
  endtime: z.number().int().nonnegative(),
  msgid: z.number().int().positive(),
  number: z.number().int().min(1).max(10_000),
});

/** `msgrecord/getmsglist` response: `msgid` is the continuation cursor. */
export const MsgListResponseSchema = z.looseObject({
  recordlist: z.array(z.unknown()).default([]),
  number: Numeric.optional(),
  msgid: Numeric.optional(),
});

/** `msgrecord/getrecord` (2015, pagesize ≤ 50) and legacy `getrecord` (pagesize ≤ 1000) request. */
export const GetRecordRequestSchema = z.object({
  starttime: z.number().int().nonnegative(),
  endtime: z.number().int().nonnegative(),
  openid: z.string().optional(),
  pagesize: z.number().int().min(1).max(1000),
  pageindex: z.number().int().positive(),
});

/** `getrecord` response (both the 2015 and the legacy API). */
export const GetRecordResponseSchema = z.looseObject({ recordlist: z.array(z.unknown()).default([]) });

const MediaIdSchema = z.string().min(1);

/**
 * A customer-service message: the discriminated union of every `msgtype` of
 * `/cgi-bin/message/custom/send` (API-NOTES "Send message types").
 */
export const WechatOutgoingMessageSchema = z.discriminatedUnion('msgtype', [
  z.object({ msgtype: z.literal('text'), text: z.object({ content: z.string().min(1) }) }),
  z.object({ msgtype: z.literal('image'), image: z.object({ media_id: MediaIdSchema }) }),
  z.object({ msgtype: z.literal('voice'), voice: z.object({ media_id: MediaIdSchema }) }),
  z.object({ msgtype: z.literal('mpnews'), mpnews: z.object({ media_id: MediaIdSchema }) }),
  z.object({
    msgtype: z.literal('video'),
    video: z.object({
      media_id: MediaIdSchema,
      thumb_media_id: MediaIdSchema,
      title: z.string().optional(),
      description: z.string().optional(),
    }),
  }),
  z.object({
    msgtype: z.literal('music'),
    music: z.object({
      title: z.string().optional(),
      description: z.string().optional(),
      musicurl: z.string().min(1),
      hqmusicurl: z.string().min(1),
      thumb_media_id: MediaIdSchema,
    }),
  }),
  z.object({
    msgtype: z.literal('news'),
    news: z.object({
      // Exactly one article: more is refused by the platform with 45008.
      articles: z
        .array(
          z.object({
            title: z.string(),
            description: z.string().optional(),
            url: z.string(),
            picurl: z.string().optional(),
          }),
        )
        .length(1, 'a news message carries exactly one article (45008 otherwise)'),
    }),
  }),
  z.object({ msgtype: z.literal('mpnewsarticle'), mpnewsarticle: z.object({ article_id: z.string().min(1) }) }),
  z.object({
    msgtype: z.literal('msgmenu'),
    msgmenu: z.object({
      head_content: z.string().optional(),
      list: z.array(z.object({ id: z.string().min(1), content: z.string().min(1) })).min(1),
      tail_content: z.string().optional(),
    }),
  }),
  z.object({ msgtype: z.literal('wxcard'), wxcard: z.object({ card_id: z.string().min(1) }) }),
  z.object({
    msgtype: z.literal('miniprogrampage'),
    miniprogrampage: z.object({
      title: z.string(),
      appid: z.string().min(1),
      pagepath: z.string().min(1),
      thumb_media_id: MediaIdSchema,
    }),
  }),
]);
/** A customer-service message (one of every `msgtype`). */
export type WechatOutgoingMessage = z.infer<typeof WechatOutgoingMessageSchema>;

/** `/cgi-bin/message/custom/send` request. */
export const SendMessageRequestSchema = z.intersection(
  z.object({ touser: OpenIdSchema, customservice: z.object({ kf_account: KfAccountNameSchema }).optional() }),
  WechatOutgoingMessageSchema,
);

/** `/cgi-bin/message/custom/typing` request. */
export const TypingRequestSchema = z.object({ touser: OpenIdSchema, command: z.enum(['Typing', 'CancelTyping']) });
