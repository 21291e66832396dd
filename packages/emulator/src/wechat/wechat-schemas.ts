import { z } from 'zod';

/**
 * Request bodies of the emulated WeChat endpoints. Plain `z.object` strips unknown keys:
 * the real platform ignores extra fields, and so does the emulator.
 */

const seconds = z.number().int().nonnegative();
const nonEmpty = z.string().min(1);

/** `POST /cgi-bin/stable_token`. */
export const StableTokenRequestSchema = z.object({
  grant_type: z.string().optional(),
  appid: z.string().optional(),
  secret: z.string().optional(),
  force_refresh: z.boolean().optional(),
});

/** `POST /customservice/msgrecord/getmsglist`. */
export const MsgListRequestSchema = z.object({
  starttime: seconds,
  endtime: seconds,
  msgid: z.number().int().min(1),
  number: z.number().int(),
});

/** `POST /customservice/msgrecord/getrecord` and `POST /cgi-bin/customservice/getrecord`. */
export const RecordPageRequestSchema = z.object({
  starttime: seconds,
  endtime: seconds,
  openid: z.string().optional(),
  pagesize: z.number().int(),
  pageindex: z.number().int().min(1),
});

/** `POST /customservice/kfaccount/add` and `/update` (an md5 `password` from old clients is ignored). */
export const KfAccountRequestSchema = z.object({ kf_account: nonEmpty, nickname: z.string() });

/** `POST /customservice/kfaccount/inviteworker`. */
export const InviteWorkerRequestSchema = z.object({ kf_account: nonEmpty, invite_wx: nonEmpty });

/** `POST /customservice/kfaccount/del` (JSON form). */
export const DeleteKfAccountRequestSchema = z.object({ kf_account: nonEmpty });

/** `POST /customservice/kfsession/create` and `/close`. */
export const SessionRequestSchema = z.object({ kf_account: nonEmpty, openid: nonEmpty });

/** `POST /cgi-bin/message/custom/typing`. */
export const TypingRequestSchema = z.object({ touser: nonEmpty, command: z.string() });

const mediaId = z.object({ media_id: nonEmpty });

/** The payload schema of each message type of `POST /cgi-bin/message/custom/send`. */
export const MessagePayloadSchemas = {
  text: z.object({ content: nonEmpty }),
  image: mediaId,
  voice: mediaId,
  mpnews: mediaId,
  video: z.object({
    media_id: nonEmpty,
    thumb_media_id: nonEmpty,
    title: z.string().optional(),
    description: z.string().optional(),
  }),
  music: z.object({
    title: z.string().optional(),
    description: z.string().optional(),
    musicurl: nonEmpty,
    hqmusicurl: nonEmpty,
    thumb_media_id: nonEmpty,
  }),
  news: z.object({
    articles: z
      .array(
        z.object({
          title: nonEmpty,
          description: z.string().optional(),
          url: nonEmpty,
          picurl: z.string().optional(),
        }),
      )
      .min(1),
  }),
  mpnewsarticle: z.object({ article_id: nonEmpty }),
  msgmenu: z.object({
    head_content: z.string(),
    list: z.array(z.object({ id: nonEmpty, content: nonEmpty })).min(1),
    tail_content: z.string(),
  }),
  wxcard: z.object({ card_id: nonEmpty }),
  miniprogrampage: z.object({ title: nonEmpty, appid: nonEmpty, pagepath: nonEmpty, thumb_media_id: nonEmpty }),
} as const;

/** A message type the send endpoint knows. */
export type MessageType = keyof typeof MessagePayloadSchemas;

/** The envelope of `POST /cgi-bin/message/custom/send` (the type-specific payload is checked separately). */
export const SendMessageRequestSchema = z.object({
  touser: nonEmpty,
  msgtype: nonEmpty,
  customservice: z.object({ kf_account: nonEmpty }).optional(),
});

/** `POST /__emulator/wechat/customer-message`: makes a customer write to the account (test control). */
export const CustomerMessageRequestSchema = z.object({
  appid: nonEmpty,
  openid: nonEmpty,
  text: z.string().default('你好'),
});
