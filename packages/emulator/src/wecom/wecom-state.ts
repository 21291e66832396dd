import { z } from 'zod';
import { emulatorError } from '../errors.js';
import type { EmulatorClock, EmulatorRequest, EmulatorResponse } from '../platform.js';
import { hash32, pick, stableId } from '../seeded-random.js';
import { WecomCallbackSender } from './wecom-callback-sender.js';

/**
 * The WeCom customer-service (微信客服) platform's state: the app (corp id + secret), its
 * customer-service accounts and their msg_list items, tokens, callback tokens and what was sent.
 * Every fact served is wecom-kf.md's (the project's WeCom kf note, documented in
 * docs/providers/wecom-kf.md); every open point of that note is a knob (`readings`).
 */

/** The readings of the points the WeCom docs leave open (wecom-kf.md §9). */
export const WecomReadingsSchema = z.strictObject({
  /** A1: cursor and results per open_kfid (2024 doc), or per app with open_kfid ignored (older copies). */
  cursorScope: z.enum(['per-account', 'per-app']).default('per-account'),
  /** A2: a callback token serves every page and account, only its first page, or only its own account. */
  tokenReuse: z.enum(['any', 'first-page-only', 'own-account-only']).default('any'),
  /** A3: token-less sync_msg calls allowed before 45009 (default: no limit). */
  tokenlessCalls: z.number().int().nonnegative().optional(),
  /** A8: gettoken returns the same token while valid, or a new one (the old one invalid) each call. */
  gettoken: z.enum(['same-while-valid', 'new-each-call']).default('same-while-valid'),
  /** A9: msg_list in send_time order, or each page reversed. */
  order: z.enum(['send-time', 'reversed-pages']).default('send-time'),
  /** §3.2: empty pages with has_more = 1 before pages with items (legal per the doc). */
  emptyPages: z.boolean().default(false),
  /** §3.1: "fewer may be returned": serve half the limit. */
  fewerThanLimit: z.boolean().default(false),
  /**
   * A cursor older than the 3-day retention (undocumented): refused with errcode 50100
   * (分页查询的游标无效, the global error-code page), or read on from the oldest message retained.
   */
  expiredCursor: z.enum(['reject', 'oldest']).default('reject'),
});
/** The resolved readings. */
export type WecomReadings = z.output<typeof WecomReadingsSchema>;

/** Options of the WeCom platform (`startEmulator({ wecom })`). */
export const WecomEmulatorOptionsSchema = z.strictObject({
  corpId: z.string().min(1).default('ww0e0m0u0l0a0t0o0r'),
  secret: z.string().min(1).default('wecom-kf-emulator-secret'),
  /** Customer-service accounts (open_kfids are derived from the seed). */
  accounts: z.number().int().min(1).max(100).default(2),
  /** Seeded messages per account, spread over the last `hours`. */
  messagesPerAccount: z.number().int().min(0).max(100_000).default(40),
  hours: z.number().int().min(1).max(72).default(48),
  readings: WecomReadingsSchema.default(WecomReadingsSchema.parse({})),
  /** The app's callback Token and EncodingAESKey (接收消息服务器配置): callback targets use them unless they name their own. */
  callback: z
    .strictObject({ token: z.string().min(1), encodingAesKey: z.string().length(43) })
    .default({ token: 'wecomEmulatorToken', encodingAesKey: 'wEc0mKfEmu1at0rEnc0dingAesKey0123456789abcd' }),
});
/** Options as written. */
export type WecomEmulatorOptions = z.input<typeof WecomEmulatorOptionsSchema>;

/** A route of the platform: its handler; `public` routes need no access token (gettoken). */
export interface WecomRoute {
  access?: 'public';
  handle(request: EmulatorRequest, body: Record<string, unknown>): EmulatorResponse;
}

/** Messages are readable for 3 days (doc 31078). */
export const RETENTION_MS = 3 * 86_400_000;

/** A msg_list item as sync_msg returns it (wecom-kf.md §3.2, §4). */
export type WecomItem = Record<string, unknown> & { msgid: string; send_time: number };

/** The platform's state (see the module comment). */
export class WecomState {
  readonly corpId: string;
  readonly secret: string;
  readonly readings: WecomReadings;
  readonly accounts: readonly string[];
  readonly callback: { token: string; encodingAesKey: string };
  /** The kf_msg_or_event callbacks (wecom-callback-sender.ts). */
  readonly callbacks: WecomCallbackSender;
  /** Every item, oldest first (seeded, then added at run time). */
  readonly items: WecomItem[] = [];
  readonly sent: Record<string, unknown>[] = [];
  readonly media = new Map<string, Buffer>();
  readonly validTokens = new Set<string>();
  readonly callbackTokens = new Map<string, { openKfId: string; pagesServed: number; issuedAt: number }>();
  /** When each sync_msg cursor was issued (by its serial): a cursor older than the retention has expired. */
  readonly cursorIssuedAt = new Map<number, number>();
  readonly #clock: EmulatorClock;
  readonly #seed: string;
  current: string | undefined;
  #serial = 0;
  tokenlessCalls = 0;
  syncMsgCalls = 0;

  constructor(seed: string, input: unknown, clock: EmulatorClock) {
    const parsed = WecomEmulatorOptionsSchema.safeParse(input ?? {});
    if (!parsed.success) {
      throw emulatorError(
        'EMULATOR_OPTIONS_INVALID',
        `wecom: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const options = parsed.data;
    this.#seed = seed;
    this.#clock = clock;
    this.corpId = options.corpId;
    this.secret = options.secret;
    this.readings = options.readings;
    this.callback = options.callback;
    this.callbacks = new WecomCallbackSender(this);
    this.accounts = Array.from(
      { length: options.accounts },
      (_, index) => `wk${stableId(30, seed, 'wecom-account', index)}`,
    );
    this.#seedItems(options.messagesPerAccount, options.hours);
  }

  /** The emulator clock, ms. */
  now(): number {
    return this.#clock.now();
  }

  /** A fresh serial number (tokens, cursors, msgids). */
  serial(): number {
    this.#serial += 1;
    return this.#serial;
  }

  /** The open_kfid an item belongs to (top level, or inside `event`). */
  static accountOf(item: Record<string, unknown>): unknown {
    return item.open_kfid ?? (item.event as Record<string, unknown> | undefined)?.open_kfid;
  }

  /** A customer message written now to `openKfId` (an image when `image` bytes are given); returns the item. */
  addCustomerMessage(openKfId: string, text: string, image?: Buffer, customer = 'wm_emulated_customer'): WecomItem {
    const msgid = `msg_${this.serial()}_${stableId(12, this.#seed, 'wecom-live', this.#serial)}`;
    const mediaId = `MEDIA_${msgid}`;
    if (image) this.media.set(mediaId, image);
    const item: WecomItem = {
      msgid,
      open_kfid: openKfId,
      external_userid: customer,
      send_time: Math.floor(this.now() / 1000),
      origin: 3,
      ...(image ? { msgtype: 'image', image: { media_id: mediaId } } : { msgtype: 'text', text: { content: text } }),
    };
    this.items.push(item);
    return item;
  }

  /**
   * A customer writes to `openKfId` now: the item, and the Token of the kf_msg_or_event callback
   * that rings for it (sent to the callback target when one is set).
   */
  customerWrites(openKfId: string, text: string, image?: Buffer): { item: WecomItem; callbackToken: string } {
    const item = this.addCustomerMessage(openKfId, text, image);
    return { item, callbackToken: this.callbacks.ring(openKfId, item.msgid) };
  }

  /** Issues the Token of a kf_msg_or_event callback for `openKfId` (valid 10 minutes). */
  issueCallbackToken(openKfId: string): string {
    const token = `ENCA${stableId(24, this.#seed, 'wecom-callback', this.serial())}`;
    this.callbackTokens.set(token, { openKfId, pagesServed: 0, issuedAt: this.now() });
    return token;
  }

  /**
   * Every item a cursor of `openKfId` walks, aged out or not, oldest first (every item in the
   * per-app reading): cursor positions index this list, so messages ageing out never shift them.
   */
  scopeItems(openKfId: string): WecomItem[] {
    return this.items.filter(
      (item) => this.readings.cursorScope === 'per-app' || WecomState.accountOf(item) === openKfId,
    );
  }

  /** Whether an item is still within the 3-day retention. */
  retained(item: WecomItem): boolean {
    return item.send_time * 1000 >= this.now() - RETENTION_MS;
  }

  /** The items of an account within the retention, oldest first (every item in the per-app reading). */
  visible(openKfId: string): WecomItem[] {
    return this.scopeItems(openKfId).filter((item) => this.retained(item));
  }

  #seedItems(perAccount: number, hours: number): void {
    const start = this.now() - hours * 3_600_000;
    for (const [accountIndex, openKfId] of this.accounts.entries()) {
      for (let index = 0; index < perAccount; index++) {
        const at = Math.floor((start + ((index + 0.5) / Math.max(1, perAccount)) * hours * 3_600_000) / 1000);
        this.items.push(this.#seededItem(openKfId, accountIndex, index, at));
      }
    }
    this.items.sort((a, b) => a.send_time - b.send_time || (a.msgid < b.msgid ? -1 : 1));
  }

  #seededItem(openKfId: string, accountIndex: number, index: number, at: number): WecomItem {
    const customer = `wm${stableId(26, this.#seed, 'wecom-customer', accountIndex, index % 5)}`;
    const msgid = `from_msgid_${hash32(this.#seed, 'wecom-msg', accountIndex, index)}${index}`;
    const base = { msgid, open_kfid: openKfId, external_userid: customer, send_time: at, origin: 3 };
    const kind = pick(
      ['text', 'text', 'text', 'servicer', 'image', 'event'] as const,
      this.#seed,
      'wecom-kind',
      accountIndex,
      index,
    );
    if (kind === 'servicer') {
      return { ...base, origin: 5, servicer_userid: 'zhangsan', msgtype: 'text', text: { content: `回复 ${index}` } };
    }
    if (kind === 'image') {
      const mediaId = `MEDIA_${stableId(20, this.#seed, 'wecom-media', accountIndex, index)}`;
      this.media.set(mediaId, Buffer.from(`image ${mediaId}`));
      return { ...base, msgtype: 'image', image: { media_id: mediaId } };
    }
    if (kind === 'event') {
      return {
        msgid,
        send_time: at,
        origin: 4,
        msgtype: 'event',
        event: {
          event_type: 'enter_session',
          open_kfid: openKfId,
          external_userid: customer,
          scene: '123',
          welcome_code: 'w',
        },
      };
    }
    return { ...base, msgtype: 'text', text: { content: `你好 ${index}` } };
  }
}
