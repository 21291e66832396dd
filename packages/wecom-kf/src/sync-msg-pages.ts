import {
  formatZodIssue,
  isKefuError,
  type JsonValue,
  type KefuRecord,
  type PageSource,
  type PageSourceContext,
  type ProviderWarning,
  type RecordPage,
} from '@kefu/core';
import { z } from 'zod';
import { wecomKfError } from './errors.js';
import { itemAccount, itemTimeMs, normalizeItem, parseSyncMsgItem } from './record-normalizer.js';
import type { WecomKfClient } from './wecom-kf-client.js';
import type { SyncMsgResponse } from './wecom-kf-schemas.js';

/**
 * The records of one customer-service account from `kf/sync_msg` (wecom-kf.md §3): a cursor
 * walk, one cursor per open_kfid (A1: open_kfid is always sent and cursors are never shared
 * between accounts). The position is the cursor: the provider state after each page is the
 * page's `next_cursor`, so the checkpoint saved after every page is the cursor the doc asks
 * to persist. The loop follows `has_more` only (an empty page with has_more = 1 is legal).
 *
 * Time range: sync_msg has none, so `[from, to)` is filtered here. An item at or after `to`
 * ends the stream *before* it — the position then names the page's cursor and how many of
 * its items were consumed — so the next sync (a later `to`) re-reads that page from the
 * same cursor and delivers it; nothing past `to` is skipped for good, whatever the order of
 * msg_list (A9).
 */

/** Messages are readable for 3 days (doc 31078). */
export const RETENTION_MS = 3 * 86_400_000;

/** The resumable position: the cursor, items of its page already consumed, the range start, when the cursor was read. */
export const SyncMsgPositionSchema = z.strictObject({
  v: z.literal(1),
  /** The cursor the next page is read with (null: none yet, the oldest message of the last 3 days). */
  cursor: z.string().min(1).nullable(),
  /** Items of the page read with `cursor` already consumed (an item at or after `to` stopped the stream there). */
  consumed: z.int().min(0),
  /** The query's `from` (ms) when the stream started, kept so a resumed sync filters the same range. */
  from: z.int(),
  /** When `cursor` was obtained (ms): a gap longer than the 3-day retention is reported. */
  readAt: z.int(),
  /**
   * The earliest send time (ms) a message not yet read after `cursor` may have, when before
   * `readAt` (the stream stopped with messages left): if that is older than 3 days on resume,
   * messages may have aged out unread, and the gap is reported. Absent: `readAt`.
   */
  unreadSince: z.int().optional(),
  /**
   * The msgids of this account's items consumed on the page read with `cursor` before the
   * stream stopped in it: the re-read skips these, wherever they are now, instead of the
   * `consumed` first items — after messages aged out the page starts later, and new messages
   * may join it ahead (pages in reverse order, A9), so a count would skip unread ones.
   * `consumed` stays for positions written before this field.
   */
  skip: z.array(z.string().min(1)).optional(),
});
/** The position of a sync_msg stream. */
export type SyncMsgPosition = z.infer<typeof SyncMsgPositionSchema>;

/** Parses a stored position; WECOM_CHECKPOINT_INVALID when it is not one of ours. */
export function parseSyncMsgPosition(value: JsonValue): SyncMsgPosition | null {
  if (value === null) return null;
  const parsed = SyncMsgPositionSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw wecomKfError(
    'WECOM_CHECKPOINT_INVALID',
    `the resume position is not a WeCom sync_msg position: ${formatZodIssue(parsed.error.issues[0])}`,
  );
}

/** The callback tokens of the accounts (valid 10 minutes): the receiver stores them, the pulls use them. */
export class CallbackTokens {
  /** Used up to this age: the doc gives 10 minutes, leave a minute for the pull itself. */
  static readonly MAX_AGE_MS = 9 * 60_000;
  readonly #tokens = new Map<string, { token: string; at: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Remembers the newest token of `openKfId`. */
  remember(openKfId: string, token: string): void {
    this.#tokens.set(openKfId, { token, at: this.#now() });
  }

  /** The token of `openKfId` while it is fresh. */
  current(openKfId: string): string | undefined {
    const entry = this.#tokens.get(openKfId);
    if (!entry) return undefined;
    if (this.#now() - entry.at < CallbackTokens.MAX_AGE_MS) return entry.token;
    this.#tokens.delete(openKfId);
    return undefined;
  }

  /** Forgets `token` of `openKfId` (refused with 95007) unless a newer one replaced it. */
  forget(openKfId: string, token: string): void {
    if (this.#tokens.get(openKfId)?.token === token) this.#tokens.delete(openKfId);
  }
}

/** One account's query. */
export interface SyncMsgQuery {
  openKfId: string;
  /** [from, to) in ms. */
  from: number;
  to: number;
  customer?: string | undefined;
  limit: number;
  voiceFormat: 0 | 1;
}

/** Where one page's items end: the records kept, and whether an item at or after `to` stopped the stream. */
interface PageCut {
  records: KefuRecord[];
  /** Index of the first item at or after `to`, or undefined when the page was read to its end. */
  heldAt: number | undefined;
  foreign: number;
  /** The send time (ms) of the page's latest item, or of its earliest unread one when held. */
  boundary: number | undefined;
  /** The msgids of this account's items consumed before `heldAt` (see `skip`). */
  consumedIds: string[];
}

/** The sync_msg PageSource of one account (see the module comment). */
export class SyncMsgPageSource implements PageSource {
  readonly #client: WecomKfClient;
  readonly #query: SyncMsgQuery;
  readonly #tokens: CallbackTokens;
  readonly #now: () => number;

  constructor(client: WecomKfClient, query: SyncMsgQuery, tokens: CallbackTokens, now: () => number = Date.now) {
    this.#client = client;
    this.#query = query;
    this.#tokens = tokens;
    this.#now = now;
  }

  async *pages(position: JsonValue, signal: AbortSignal, context: PageSourceContext = {}): AsyncIterable<RecordPage> {
    const stored = parseSyncMsgPosition(position);
    const from = stored?.from ?? this.#query.from;
    let state: SyncMsgPosition = stored ?? { v: 1, cursor: null, consumed: 0, from, readAt: this.#now() };
    this.#warnAboutRetention(state, stored !== null, context);
    let foreignSeen = false;
    while (true) {
      const readAt = this.#now();
      const page = await this.#fetch(state, signal, context);
      const skip = state.skip ? new Set(state.skip) : undefined;
      const cut = this.#cut(page.msg_list, skip ? 0 : state.consumed, from, skip);
      if (cut.foreign > 0 && !foreignSeen) {
        foreignSeen = true;
        context.onWarning?.(foreignWarning(this.#query.openKfId, cut.foreign));
      }
      if (cut.heldAt !== undefined) {
        // Stop before the first item at or after `to`; the next sync re-reads this page from here.
        const unreadSince = Math.min(cut.boundary ?? readAt, state.unreadSince ?? readAt);
        const { cursor, readAt: cursorReadAt } = state;
        const position = {
          v: 1,
          cursor,
          consumed: cut.heldAt,
          from,
          readAt: cursorReadAt,
          unreadSince,
          skip: cut.consumedIds,
        };
        yield { records: cut.records, position };
        return;
      }
      const cursor = page.next_cursor || state.cursor;
      if (page.has_more && (!page.next_cursor || page.next_cursor === state.cursor)) {
        // has_more without a new cursor would loop forever on the same page: refuse loudly.
        throw wecomKfError(
          'WECOM_BAD_RESPONSE',
          `kf/sync_msg answered has_more=1 without a new next_cursor for ${this.#query.openKfId}`,
          { details: { call: 'kf/sync_msg', openKfId: this.#query.openKfId } },
        );
      }
      // Messages left on later pages were sent after this page's latest one (A9: pages, not items, are ordered).
      const unreadSince = page.has_more ? Math.min(readAt, cut.boundary ?? state.unreadSince ?? readAt) : undefined;
      state = { v: 1, cursor, consumed: 0, from, readAt, ...(unreadSince === undefined ? {} : { unreadSince }) };
      yield { records: cut.records, position: state };
      if (!page.has_more) return;
    }
  }

  /** One page; a refused callback token (95007) is dropped and the page read again without it (A2). */
  async #fetch(state: SyncMsgPosition, signal: AbortSignal, context: PageSourceContext): Promise<SyncMsgResponse> {
    const { openKfId, limit, voiceFormat } = this.#query;
    const token = this.#tokens.current(openKfId);
    const request = {
      open_kfid: openKfId,
      limit,
      voice_format: voiceFormat,
      ...(state.cursor ? { cursor: state.cursor } : {}),
    };
    const options = { signal, ...(context.onRetry ? { onRetry: context.onRetry } : {}) };
    try {
      return await this.#client.syncMsg(token ? { ...request, token } : request, options);
    } catch (error) {
      if (state.cursor !== null && isKefuError(error) && error.code === 'WECOM_50100') {
        throw this.#expired(state, error);
      }
      if (!token || !isKefuError(error) || error.code !== 'WECOM_95007') throw error;
      this.#tokens.forget(openKfId, token);
      context.onWarning?.({
        code: 'WECOM_CALLBACK_TOKEN_REFUSED',
        message: `kf/sync_msg refused the callback token of ${openKfId} (95007, expired or used up); read again without it`,
        details: { openKfId },
      });
      return this.#client.syncMsg(request, options);
    }
  }

  /**
   * The saved cursor refused (50100): one platform reading of a cursor older than the 3 days
   * (docs/providers/wecom-kf.md). Nothing is skipped silently: the sync stops, the checkpoint stays.
   */
  #expired(state: SyncMsgPosition, cause: Error): Error {
    const { openKfId } = this.#query;
    const age = hours(this.#now() - state.readAt);
    return wecomKfError(
      'WECOM_CURSOR_EXPIRED',
      `kf/sync_msg refused the saved cursor of ${openKfId} (errcode 50100), last read ${age} h ago (${new Date(state.readAt).toISOString()}); sync_msg keeps 3 days. The checkpoint was not changed: delete this target's checkpoint and sync again to restart at the oldest message still kept`,
      { cause, details: { openKfId, cursorReadAt: new Date(state.readAt).toISOString(), errcode: 50100 } },
    );
  }

  /**
   * The records of one page's items from `start`, in [from, to) and of this account, leaving
   * out the msgids in `skip` (consumed before a stop in this page).
   */
  #cut(list: readonly unknown[], start: number, from: number, skip?: ReadonlySet<string>): PageCut {
    const records: KefuRecord[] = [];
    const consumedIds: string[] = [];
    let foreign = 0;
    let latest: number | undefined;
    for (let index = start; index < list.length; index++) {
      const parsed = parseSyncMsgItem(list[index]);
      const at = itemTimeMs(parsed);
      const account = itemAccount(parsed);
      if (account !== undefined && account !== this.#query.openKfId) {
        // An older reading of the doc: sync_msg may return every account's messages (A1).
        foreign += 1;
        continue;
      }
      if (skip?.has(parsed.item.msgid)) {
        consumedIds.push(parsed.item.msgid);
        continue;
      }
      if (at >= this.#query.to) {
        const unread = list.slice(index).map((item) => itemTimeMs(parseSyncMsgItem(item)));
        return { records, heldAt: index, foreign, boundary: Math.min(...unread), consumedIds };
      }
      latest = Math.max(latest ?? at, at);
      consumedIds.push(parsed.item.msgid);
      if (at < from) continue;
      const record = normalizeItem(this.#query.openKfId, parsed);
      if (this.#query.customer === undefined || record.customer === this.#query.customer) records.push(record);
    }
    return { records, heldAt: undefined, foreign, boundary: latest, consumedIds };
  }

  /** Reports a range or a cursor reaching past the 3 days sync_msg keeps: what lies there is gone, not hidden. */
  #warnAboutRetention(state: SyncMsgPosition, resumed: boolean, context: PageSourceContext): void {
    const now = this.#now();
    const oldestReadable = now - RETENTION_MS;
    // An hour of slack for a range: a pull asking for "the last 3 days" is not a gap. None for a
    // cursor: whatever was sent just after it was read and is now older than 3 days is gone.
    const gapStart = oldestReadable - 3_600_000;
    const unreadSince = Math.min(state.readAt, state.unreadSince ?? state.readAt);
    if (resumed && unreadSince < oldestReadable) {
      const why =
        state.readAt < oldestReadable
          ? `the cursor of ${this.#query.openKfId} was last read ${hours(now - state.readAt)} h ago`
          : `the sync of ${this.#query.openKfId} stopped ${hours(now - state.readAt)} h ago before messages sent ${hours(now - unreadSince)} h ago`;
      context.onWarning?.({
        code: 'WECOM_CURSOR_GAP',
        message: `${why}, more than the 3 days kf/sync_msg keeps: messages older than ${new Date(oldestReadable).toISOString()} that were not read then cannot be read now`,
        details: {
          openKfId: this.#query.openKfId,
          cursorReadAt: new Date(state.readAt).toISOString(),
          unreadSince: new Date(unreadSince).toISOString(),
        },
      });
    } else if (state.cursor === null && state.from < gapStart) {
      context.onWarning?.({
        code: 'WECOM_RANGE_BEYOND_RETENTION',
        message: `kf/sync_msg keeps 3 days: the records of ${this.#query.openKfId} from ${new Date(state.from).toISOString()} to ${new Date(oldestReadable).toISOString()} cannot be read`,
        details: { openKfId: this.#query.openKfId, from: new Date(state.from).toISOString() },
      });
    }
  }
}

function hours(ms: number): number {
  return Math.round(ms / 3_600_000);
}

function foreignWarning(openKfId: string, count: number): ProviderWarning {
  return {
    code: 'WECOM_FOREIGN_MESSAGES',
    message: `kf/sync_msg for ${openKfId} returned ${count} message(s) of other accounts; they were left to those accounts' own streams`,
    details: { openKfId, count },
  };
}
