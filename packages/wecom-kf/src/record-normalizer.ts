import type { JsonValue, KefuRecord, RecordDirection, SessionEvent } from '@kefu/core';
import { wecomKfError } from './errors.js';
import { type SyncMsgItem, SyncMsgItemSchema } from './wecom-kf-schemas.js';

/** The platform name records of this provider carry. */
export const WECOM_KF_PLATFORM = 'wecom-kf';

/** A JSON object as sync_msg sends it. */
export type JsonObject = Record<string, JsonValue>;

/** A sync_msg item checked for its common fields, with its raw JSON. */
export interface ParsedItem {
  item: SyncMsgItem;
  raw: JsonObject;
  /** The item's `event` object (msgtype = event), else undefined. */
  event: JsonObject | undefined;
}

/** Checks one `msg_list` item (msgid, send_time, origin, msgtype); WECOM_BAD_RESPONSE names what is missing. */
export function parseSyncMsgItem(value: unknown): ParsedItem {
  const parsed = SyncMsgItemSchema.safeParse(value);
  if (!parsed.success) {
    throw wecomKfError(
      'WECOM_BAD_RESPONSE',
      `kf/sync_msg returned a msg_list item without ${parsed.error.issues.map((issue) => issue.path.join('.')).join(', ')}`,
      { details: { issues: parsed.error.issues.slice(0, 5).map((issue) => issue.message) } },
    );
  }
  const raw = value as JsonObject;
  const event = parsed.data.msgtype === 'event' ? objectAt(raw, 'event') : undefined;
  return { item: parsed.data, raw, event };
}

/** The open_kfid an item belongs to: top level, or inside `event` (absent at the top for events). */
export function itemAccount(parsed: ParsedItem): string | undefined {
  return parsed.item.open_kfid ?? textAt(parsed.event, 'open_kfid');
}

/** The item's time in ms (send_time is unix seconds). */
export function itemTimeMs(parsed: ParsedItem): number {
  return parsed.item.send_time * 1000;
}

/** Media message types: their payload is `{media_id}` (valid 3 days, media/get). */
const MEDIA_KINDS = { image: 'image', voice: 'voice', video: 'video', file: 'file' } as const;

/** What an event means for the session (session_status_change change_type, wecom-kf.md §4.2). */
const CHANGE_TYPES: Readonly<Record<number, SessionEvent>> = {
  1: 'session_accepted', // 从接待池接入会话
  2: 'session_transferred', // 转接会话
  3: 'session_closed', // 结束会话
  4: 'session_accepted', // 重新接入已结束/已转接会话
};

function objectAt(value: JsonObject | undefined, key: string): JsonObject | undefined {
  const found = value?.[key];
  return found !== null && typeof found === 'object' && !Array.isArray(found) ? found : undefined;
}

function textAt(value: JsonObject | undefined, key: string): string | undefined {
  const found = value?.[key];
  if (typeof found === 'string' && found.length > 0) return found;
  return typeof found === 'number' ? String(found) : undefined;
}

function numberAt(value: JsonObject | undefined, key: string): number | undefined {
  const found = value?.[key];
  const number = typeof found === 'string' ? Number(found) : found;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

function direction(origin: number, msgtype: string): RecordDirection {
  if (msgtype === 'event' || origin === 4) return 'system';
  return origin === 5 ? 'outbound' : 'inbound';
}

/** The normalized fields of an event item (kind `event`). */
function eventFields(event: JsonObject | undefined): Partial<KefuRecord> {
  const type = textAt(event, 'event_type') ?? 'unknown';
  const changeType = numberAt(event, 'change_type');
  const sessionEvent: SessionEvent =
    type === 'enter_session'
      ? 'session_created'
      : type === 'session_status_change' && changeType !== undefined
        ? (CHANGE_TYPES[changeType] ?? 'other')
        : 'other';
  const agent = textAt(event, 'new_servicer_userid') ?? textAt(event, 'servicer_userid');
  const subject = textAt(event, 'recall_msgid') ?? textAt(event, 'fail_msgid');
  return {
    kind: 'event',
    event: sessionEvent,
    text: subject ? `${type} ${subject}` : type,
    ...(agent ? { agent } : {}),
  };
}

/** The normalized fields of a message item, by msgtype (wecom-kf.md §4.1); unknown types keep only `raw`. */
export function messageFields(msgtype: string, raw: JsonObject): Partial<KefuRecord> {
  const body = objectAt(raw, msgtype);
  const text = (key: string) => textAt(body, key);
  const defined = <T extends Record<string, unknown>>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
  switch (msgtype) {
    case 'text':
      return { kind: 'text', text: text('content') ?? '' };
    case 'image':
    case 'voice':
    case 'video':
    case 'file':
      return { kind: MEDIA_KINDS[msgtype], media: defined({ key: text('media_id') }) };
    case 'location':
      return { kind: 'location', location: defined({ title: text('name'), address: text('address') }) };
    case 'link':
      return {
        kind: 'link',
        link: defined({ title: text('title'), url: text('url'), description: text('desc'), thumbUrl: text('pic_url') }),
      };
    case 'business_card':
      return { kind: 'card', card: defined({ description: text('userid') }) };
    case 'miniprogram':
      return {
        kind: 'miniprogram',
        miniprogram: defined({
          title: text('title'),
          appId: text('appid'),
          pagePath: text('pagepath'),
          coverKey: text('thumb_media_id'),
        }),
      };
    case 'msgmenu':
      return { kind: 'text', text: menuText(body) };
    case 'channels_shop_product':
      return { kind: 'link', link: defined({ title: text('title'), thumbUrl: text('head_img') }) };
    case 'channels_shop_order':
      return {
        kind: 'link',
        link: defined({
          title: text('product_titles'),
          description: text('price_wording'),
          thumbUrl: text('image_url'),
        }),
      };
    case 'merged_msg':
      return { kind: 'chat_history', text: text('title') ?? '' };
    case 'channels':
      return {
        kind: 'channels_video',
        link: defined({ title: text('title') }),
        card: defined({ nickname: text('nickname') }),
      };
    default:
      // meeting, schedule, note (payloads undocumented, A4) and types added later: kept in `raw`.
      return { kind: 'unknown' };
  }
}

/** A menu message as text: head, the items' contents, tail (one per line). */
function menuText(body: JsonObject | undefined): string {
  const list = body?.list;
  const items = Array.isArray(list) ? list : [];
  const lines = items.map((entry) => {
    const item = entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? entry : {};
    const type = textAt(item, 'type') ?? '';
    return textAt(objectAt(item, type), 'content') ?? '';
  });
  return [textAt(body, 'head_content'), ...lines, textAt(body, 'tail_content')].filter(Boolean).join('\n');
}

/**
 * One sync_msg item as a record of `account` (its open_kfid). `id` is the msgid (the identity
 * every SDK assumes, A9); `customer` is the external_userid, or the account itself for events
 * about no customer (servicer_status_change); `raw` is the item as received.
 */
export function normalizeItem(account: string, parsed: ParsedItem): KefuRecord {
  const { item, raw, event } = parsed;
  const customer = item.external_userid ?? textAt(event, 'external_userid') ?? account;
  const fields = item.msgtype === 'event' ? eventFields(event) : messageFields(item.msgtype, raw);
  const agent = item.servicer_userid ?? fields.agent;
  return {
    id: item.msgid,
    provider: WECOM_KF_PLATFORM,
    account,
    customer,
    direction: direction(item.origin, item.msgtype),
    kind: 'unknown',
    ...fields,
    ...(agent ? { agent } : {}),
    at: new Date(itemTimeMs(parsed)).toISOString(),
    raw,
  };
}
