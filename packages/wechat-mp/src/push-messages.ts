import {
  formatZodIssue,
  type JsonValue,
  type KefuRecord,
  type RecordKind,
  type SessionEvent,
  toIsoTimestamp,
} from '@kefu/core';
import { readWechatXml, type XmlObject } from '@kefu/wechat-crypto';
import { z } from 'zod';
import { wechatMpError } from './errors.js';
import { recordId, WECHAT_MP_PLATFORM } from './record-normalizer.js';

/**
 * Pushes: the XML WeChat posts to the server URL for each customer message and event
 * (wechat-push.md §4), decrypted first when the account uses the safe mode
 * (`@kefu/wechat-crypto`). Fetch raw, then normalize: {@link readPushXml} reads and
 * validates the fields, {@link normalizePush} maps them to a record. Pushes are the only
 * source of `MediaId`s, so records of pushed media carry them.
 */

/** Every field a push carries is text: `MsgId` is a 64-bit integer and must not become a JS number. */
const Text = z.string();
/** A non-negative integer as text (unix seconds, ids). */
const Digits = z.string().regex(/^\d{1,20}$/, 'must be a non-negative integer');

/**
 * The fields of a push, verbatim (wechat-push.md §4.1 messages, §4.2 events). Four are
 * required; the others are checked to be single text values when present; unknown
 * fields and nested ones (`ScanCodeInfo`, `SendPicsInfo` …) are kept as read.
 */
export const WechatPushSchema = z.looseObject({
  /** The Official Account's original id (`gh_…`). */
  ToUserName: Text.min(1),
  /** The customer's openid. */
  FromUserName: Text.min(1),
  /** Unix seconds (at most 10 digits: a record time must be a real date). */
  CreateTime: z.string().regex(/^\d{1,10}$/, 'must be unix seconds'),
  /** `text`, `image`, `voice`, `video`, `shortvideo`, `location`, `link`, `event`, … */
  MsgType: Text.min(1),
  /** Every ordinary message's 64-bit id (absent on events). */
  MsgId: Digits.optional(),
  Content: Text.optional(),
  /** Set when a text comes from an article (`MsgDataId`, `Idx`). */
  MsgDataId: Text.optional(),
  Idx: Text.optional(),
  PicUrl: Text.optional(),
  MediaId: Text.optional(),
  /** Voice format: `amr`, `speex`, … */
  Format: Text.optional(),
  /** Speech recognition of a voice message, when enabled. */
  Recognition: Text.optional(),
  ThumbMediaId: Text.optional(),
  Location_X: Text.optional(),
  Location_Y: Text.optional(),
  Scale: Text.optional(),
  Label: Text.optional(),
  Title: Text.optional(),
  Description: Text.optional(),
  Url: Text.optional(),
  Event: Text.optional(),
  /** `qrscene_<scene>` on a subscribe through a QR code. */
  EventKey: Text.optional(),
  Ticket: Text.optional(),
  /** The agent of `kf_create_session` / `kf_close_session`. */
  KfAccount: Text.optional(),
  /** The agents of `kf_switch_session`. */
  FromKfAccount: Text.optional(),
  ToKfAccount: Text.optional(),
});
/** A validated push. */
export type WechatPush = z.infer<typeof WechatPushSchema>;

/** Message types with a kind of their own; others become `unknown` (content kept in `raw`). */
const MESSAGE_KINDS: Readonly<Record<string, RecordKind>> = {
  text: 'text',
  image: 'image',
  voice: 'voice',
  video: 'video',
  shortvideo: 'video',
  location: 'location',
  link: 'link',
};

/** Customer-service session events (wechat-push.md §4.2); other events are `other`. */
const SESSION_EVENTS: Readonly<Record<string, SessionEvent>> = {
  kf_create_session: 'session_created',
  kf_close_session: 'session_closed',
  kf_switch_session: 'session_transferred',
};

/**
 * Validates the fields of a push read with `readWechatXml`. A push missing `ToUserName`,
 * `FromUserName`, `CreateTime` or `MsgType`, or with a known field that is not a single
 * text value, throws `WECHAT_PUSH_INVALID` naming the fields (never their content).
 */
export function parsePush(fields: XmlObject): WechatPush {
  const result = WechatPushSchema.safeParse(fields);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => formatZodIssue(issue));
  throw wechatMpError('WECHAT_PUSH_INVALID', `the push is not a WeChat message or event: ${problems.join('; ')}`, {
    details: { fields: result.error.issues.map((issue) => issue.path.join('.')) },
  });
}

/**
 * Reads a push body (plaintext, or the decrypted message of an encrypted one) with the safe
 * XML reader and validates it. Malformed XML throws `WECHAT_CRYPTO_MALFORMED_XML`, a DTD
 * `WECHAT_CRYPTO_FORBIDDEN_DTD`, missing fields `WECHAT_PUSH_INVALID`.
 */
export function readPushXml(xml: string): WechatPush {
  return parsePush(readWechatXml(xml));
}

/**
 * The key that identifies a push across WeChat's retries (wechat-push.md §4.4): a message
 * by `(appId, FromUserName, MsgId)` — MsgIds alone collide (WxJava #333); an event by
 * `(appId, FromUserName, CreateTime, Event, EventKey, KfAccount, FromKfAccount, ToKfAccount)`.
 * A message without `MsgId` is keyed like an event, with its `MsgType`. A JSON array,
 * tagged so it can never equal the identity of a getmsglist record.
 */
export function pushDedupeKey(appId: string, push: WechatPush): string {
  if (push.MsgId !== undefined) return JSON.stringify(['wechat-mp/push-message', appId, push.FromUserName, push.MsgId]);
  return JSON.stringify([
    'wechat-mp/push-event',
    appId,
    push.FromUserName,
    push.CreateTime,
    push.MsgType,
    push.Event ?? '',
    push.EventKey ?? '',
    push.KfAccount ?? '',
    push.FromKfAccount ?? '',
    push.ToKfAccount ?? '',
  ]);
}

/**
 * The record id of a push: {@link recordId} of its {@link pushDedupeKey}, so a retried push
 * gets the same id, and no push id equals a getmsglist record's id.
 */
export function pushRecordId(appId: string, push: WechatPush): string {
  return recordId(pushDedupeKey(appId, push), 0);
}

/**
 * Maps a push to a {@link KefuRecord}: customer messages are `inbound` with their content
 * (media by `MediaId`, images with `PicUrl`, voice with its recognition as text); events
 * are `system`, the kf session events with their agent (`kf_switch_session`: the agent the
 * session went to; the other one stays in `raw`). Unknown message types become `unknown`,
 * unknown events `other`; `raw` keeps every field as read, all text.
 */
export function normalizePush(appId: string, push: WechatPush): KefuRecord {
  const record: KefuRecord = {
    id: pushRecordId(appId, push),
    provider: WECHAT_MP_PLATFORM,
    account: appId,
    customer: push.FromUserName,
    direction: 'inbound',
    kind: 'unknown',
    at: toIsoTimestamp(Number(push.CreateTime) * 1000),
    raw: push as JsonValue,
  };
  if (push.MsgType === 'event') {
    record.direction = 'system';
    record.kind = 'event';
    record.event = SESSION_EVENTS[push.Event ?? ''] ?? 'other';
    const agent = push.Event === 'kf_switch_session' ? push.ToKfAccount : push.KfAccount;
    if (agent) record.agent = agent;
    return record;
  }
  record.kind = MESSAGE_KINDS[push.MsgType] ?? 'unknown';
  switch (push.MsgType) {
    case 'text':
      if (push.Content !== undefined) record.text = push.Content;
      break;
    case 'image':
      record.media = compact({ key: push.MediaId, url: push.PicUrl });
      break;
    case 'voice':
      record.media = compact({ key: push.MediaId });
      if (push.Recognition) record.text = push.Recognition;
      break;
    case 'video':
    case 'shortvideo':
      record.media = compact({ key: push.MediaId });
      break;
    case 'location':
      // Label is the address text; the coordinates (Location_X/Y) and Scale stay in raw.
      record.location = compact({ address: push.Label });
      break;
    case 'link':
      record.link = compact({ title: push.Title, description: push.Description, url: push.Url });
      break;
  }
  return record;
}

/** The object without its undefined fields (records omit absent values). */
function compact<T extends Record<string, string | undefined>>(value: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as {
    [K in keyof T]?: string;
  };
}
