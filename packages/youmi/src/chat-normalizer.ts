import {
  type Card,
  formatZodIssue,
  type JsonValue,
  type KefuRecord,
  type Link,
  type Location,
  type Media,
  type MiniProgram,
  type Quote,
  type RecordKind,
  toIsoTimestamp,
} from '@kefu/core';
import { parseBeijingTime } from './beijing-time.js';
import { youmiError } from './errors.js';
import { type YoumiChat, YoumiChatSchema } from './youmi-schemas.js';

/**
 * Raw Youmi chat → KefuRecord. One table maps every type code of seed 002 to a record
 * kind and to the typed fields its `ad_chatting_resvred` (URL-encoded JSON) fills.
 * Unknown codes become kind `unknown` with the payload kept in `raw`: nothing is dropped.
 */

/** The platform name used in records' `provider` field. */
export const YOUMI_PLATFORM = 'youmi';

/** The decoded `ad_chatting_resvred` object (shape depends on the type). */
export type Reserved = Record<string, unknown>;

/** Typed fields a type contributes to the record. */
export type Extras = Pick<
  KefuRecord,
  'text' | 'media' | 'link' | 'location' | 'card' | 'miniprogram' | 'quote' | 'event'
>;

/** How one type code is normalized. */
export interface TypeRule {
  kind: RecordKind;
  /** Notices, to-dos and takeover requests come from the platform, whoever "sent" them. */
  system?: boolean;
  extras(chat: YoumiChat, reserved: Reserved | undefined, content: string): Extras;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const nonNegative = (value: unknown): number | undefined => {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number >= 0 ? number : undefined;
};

/** Drops undefined fields so records stay minimal and `toEqual`-comparable. */
function compact<T extends object>(value: T): T | undefined {
  const entries = Object.entries(value).filter(([, inner]) => inner !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as T);
}

/** `imgs[KEY]`, `audio[KEY]`, `audioT[KEY]`, `file[KEY]`, `MP[nickname]` → the bracketed value. */
export function bracketValue(content: string, prefixes: readonly string[]): string | undefined {
  const match = /^([A-Za-z]+)\[([\s\S]*)\]$/.exec(content.trim());
  if (!match || !prefixes.includes(match[1] as string)) return undefined;
  return text(match[2]);
}

/** `a(URL)` → the URL (locations and links). */
export function anchorUrl(content: string): string | undefined {
  const match = /^a\(([\s\S]*)\)$/.exec(content.trim());
  return match ? text(match[1]) : undefined;
}

/**
 * Decodes `ad_chatting_resvred`: URL-encoded JSON (seed 002 "urlDecode解码"). Decoded the
 * way the platform's own decoders read it (Java `URLDecoder`, .NET `HttpUtility.UrlDecode`,
 * PHP `urldecode`): `+` is a space and `%2B` a plus; no encoder leaves a literal `+` for a
 * plus. Every URL encoder escapes `{`, so a value starting with `{` was not encoded at all
 * and is read as it is. Returns undefined when it is not a JSON object (the record keeps
 * it in `raw`).
 */
export function decodeReserved(value: string | null | undefined): Reserved | undefined {
  if (!value) return undefined;
  let json: string;
  if (value.trimStart().startsWith('{')) json = value;
  else {
    try {
      json = decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
  }
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Reserved) : undefined;
  } catch {
    return undefined;
  }
}

/** Code 4 is listed both as image and as voice (seed 002): voice content is `audio[…]` / `audioT[…]` with a length. */
function isVoiceContent(content: string, reserved: Reserved | undefined): boolean {
  return /^audioT?\[/.test(content.trim()) || reserved?.videoLen !== undefined;
}

const imageRule: TypeRule = {
  kind: 'image',
  extras: (_chat, reserved, content) => ({
    media: compact<Media>({
      key: bracketValue(content, ['imgs', 'img', 'image']) ?? text(reserved?.downloadKey),
      url: text(reserved?.url),
      thumbUrl: text(reserved?.thumbUrl),
    }),
  }),
};

const voiceRule: TypeRule = {
  kind: 'voice',
  extras: (chat, reserved, content) => ({
    text: text(chat.ad_voice_txt),
    media: compact<Media>({
      key: text(reserved?.downloadKey) ?? bracketValue(content, ['audio', 'audioT']),
      durationSeconds: nonNegative(reserved?.videoLen),
    }),
  }),
};

/** A profile-like payload (channels video 7549, live 9730): card + cover link. */
const profileExtras = (reserved: Reserved | undefined): Extras => ({
  card: compact<Card>({
    nickname: text(reserved?.nickname),
    avatarUrl: text(reserved?.avatar),
    description: text(reserved?.description),
  }),
  link: compact<Link>({ title: text(reserved?.nickname), thumbUrl: text(reserved?.thumbUrl) }),
});

const plainText = (kind: RecordKind, system = false): TypeRule => ({
  kind,
  system,
  extras: (_chat, _reserved, content) => ({ text: text(content) }),
});

/** Type code → rule. Code 4 is listed both as image and voice in seed 002: decided by content. */
export const YOUMI_TYPE_RULES: ReadonlyMap<number, TypeRule> = new Map<number, TypeRule>([
  [1, plainText('text')],
  [2, imageRule],
  [3, imageRule],
  [
    4,
    {
      kind: 'image',
      extras: (chat, reserved, content) =>
        isVoiceContent(content, reserved)
          ? voiceRule.extras(chat, reserved, content)
          : imageRule.extras(chat, reserved, content),
    },
  ],
  [34, voiceRule],
  [
    42,
    {
      kind: 'card',
      extras: (_chat, reserved, content) => ({
        card: compact<Card>({ nickname: text(reserved?.nickname) ?? bracketValue(content, ['MP']) }),
      }),
    },
  ],
  [
    48,
    {
      kind: 'location',
      extras: (_chat, reserved, content) => ({
        location: compact<Location>({
          title: text(reserved?.title),
          address: text(reserved?.desc),
          url: text(reserved?.url) ?? anchorUrl(content),
          thumbUrl: text(reserved?.thumbUrl),
        }),
      }),
    },
  ],
  [
    49,
    {
      kind: 'link',
      extras: (_chat, reserved, content) => ({
        link: compact<Link>({ title: text(reserved?.title), url: text(reserved?.url) ?? anchorUrl(content) }),
      }),
    },
  ],
  [50, plainText('call')],
  [
    495,
    {
      kind: 'group_invite',
      extras: (_chat, reserved) => ({
        link: compact<Link>({
          title: text(reserved?.title),
          url: text(reserved?.url),
          description: text(reserved?.desc),
          thumbUrl: text(reserved?.thumbUrl),
        }),
      }),
    },
  ],
  [
    496,
    {
      kind: 'file',
      extras: (_chat, reserved, content) => ({
        media: compact<Media>({
          key: bracketValue(content, ['file']),
          name: text(reserved?.title),
          sizeBytes: nonNegative(reserved?.totalLen),
          url: text(reserved?.url),
        }),
      }),
    },
  ],
  [1001, plainText('card')],
  [4919, plainText('chat_history')],
  [
    4933,
    {
      kind: 'miniprogram',
      extras: (_chat, reserved) => ({
        miniprogram: compact<MiniProgram>({
          title: text(reserved?.title),
          appName: text(reserved?.displayName),
          iconUrl: text(reserved?.appIconUrl),
          coverKey: text(reserved?.downloadKey),
        }),
      }),
    },
  ],
  [4362, plainText('payment')],
  [7549, { kind: 'channels_video', extras: (_chat, reserved) => profileExtras(reserved) }],
  [
    8220,
    {
      kind: 'quote',
      extras: (_chat, reserved, content) => {
        const quotedType = reserved?.type === undefined || reserved.type === null ? undefined : String(reserved.type);
        const quotedCode = quotedType === undefined ? Number.NaN : Number(quotedType);
        return {
          text: text(content),
          quote: compact<Quote>({
            kind: YOUMI_TYPE_RULES.get(quotedCode)?.kind,
            platformType: quotedType,
            text: text(reserved?.content),
            title: text(reserved?.title),
            url: text(reserved?.url),
            mediaKey: text(reserved?.downloadKey),
          }),
        };
      },
    },
  ],
  [9730, { kind: 'live', extras: (_chat, reserved) => profileExtras(reserved) }],
  [10000, plainText('notice', true)],
  [10001, plainText('notice', true)],
  [10002, plainText('notice', true)],
  [10003, plainText('notice', true)],
  [10004, plainText('notice', true)],
  [10005, plainText('notice', true)],
  [11001, plainText('todo', true)],
  [
    12001,
    {
      kind: 'takeover',
      system: true,
      extras: (_chat, reserved, content) => ({
        event: 'other',
        text: text(reserved?.reason) ?? text(content),
        card: compact<Card>({ nickname: text(reserved?.name) }),
      }),
    },
  ],
]);

/** The record kind of a type code (unknown codes → `unknown`); code 4 needs the content, see the table. */
export function kindOfType(code: number, content = '', reserved?: Reserved): RecordKind {
  if (code === 4 && isVoiceContent(content, reserved)) return 'voice';
  return YOUMI_TYPE_RULES.get(code)?.kind ?? 'unknown';
}

/** Options of {@link normalizeChat}. */
export interface NormalizeOptions {
  /** Offset of zone-less `ad_chatting_time` values, minutes east of UTC (default +480, Beijing time). */
  timeZoneOffsetMinutes?: number;
  /** The account the record belongs to (defaults to the chat's `ad_wechat_id`). */
  account?: string;
}

/** The stable record id: `${wechatId}:${ad_chatting_id}` (the chat id is the platform's cursor, unique per account). */
export function chatRecordId(wechatId: number | string, chattingId: number | string): string {
  return `${wechatId}:${chattingId}`;
}

/** Validates one raw chat, throwing YOUMI_BAD_ENVELOPE naming the bad field. */
export function parseChat(raw: unknown): YoumiChat {
  const parsed = YoumiChatSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw youmiError('YOUMI_BAD_ENVELOPE', `a Youmi chat record is malformed: ${formatZodIssue(issue)}`, {
      details: { field: issue?.path.join('.') },
    });
  }
  return parsed.data;
}

/**
 * Turns one raw GetChat record (or `chat` event value) into a KefuRecord. `raw` keeps
 * the payload exactly as received.
 */
export function normalizeChat(raw: unknown, options: NormalizeOptions): KefuRecord {
  const chat = parseChat(raw);
  const content = chat.ad_chatting_content ?? '';
  const code = chat.ad_chatting_sate;
  const rule = YOUMI_TYPE_RULES.get(code);
  const reserved = decodeReserved(chat.ad_chatting_resvred);
  const at = parseBeijingTime(
    chat.ad_chatting_time,
    `ad_chatting_time of chat ${chat.ad_chatting_id}`,
    options.timeZoneOffsetMinutes,
  );
  const extras: Extras = rule ? rule.extras(chat, reserved, content) : { text: text(content) };
  const kind = kindOfType(code, content, reserved);
  const record: KefuRecord = {
    id: chatRecordId(chat.ad_wechat_id, chat.ad_chatting_id),
    provider: YOUMI_PLATFORM,
    account: options.account ?? String(chat.ad_wechat_id),
    customer: chat.ad_chatting_talter,
    direction: rule?.system ? 'system' : chat.ad_chatting_issend === 1 ? 'outbound' : 'inbound',
    kind,
    at: toIsoTimestamp(at),
    raw: raw as JsonValue,
  };
  const agent = text(chat.ad_staff_code);
  if (agent) record.agent = agent;
  for (const [key, value] of Object.entries(extras)) {
    if (value !== undefined) (record as Record<string, unknown>)[key] = value;
  }
  return record;
}
