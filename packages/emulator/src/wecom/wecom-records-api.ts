import type { ApiArea } from '../platform-kit.js';
import { fail, ok, WECOM_PREFIX } from './wecom-answers.js';
import { RETENTION_MS, type WecomItem, type WecomRoute, type WecomState } from './wecom-state.js';

/**
 * `POST /cgi-bin/kf/sync_msg` (doc 94670, wecom-kf.md §3): `{cursor?, token?, limit ≤ 1000,
 * voice_format, open_kfid}` → `{next_cursor, has_more, msg_list}`; without a cursor, from the
 * oldest message of the last 3 days; a callback token lives 10 minutes (95007 after). The open
 * points are the state's readings: cursor scope, token reuse, token-less limit, order, empty
 * pages, short pages, expired cursors.
 */
export const wecomRecordsApi: ApiArea<WecomState, WecomRoute> = (state) => ({
  [`${WECOM_PREFIX}/cgi-bin/kf/sync_msg`]: { handle: (_request, body) => syncMsg(state, body) },
});

function syncMsg(state: WecomState, body: Record<string, unknown>) {
  const { readings } = state;
  const openKfId = typeof body.open_kfid === 'string' ? body.open_kfid : '';
  if (!openKfId) return fail(40058, 'open_kfid is required');
  const limit = Number(body.limit ?? 1000);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return fail(40058, 'limit must be 1..1000');
  const refused = checkToken(state, typeof body.token === 'string' ? body.token : undefined, openKfId);
  if (refused) return refused;
  const scope = readings.cursorScope === 'per-app' ? '*' : openKfId;
  const list = state.scopeItems(openKfId);
  const start = startOf(state, list, scope, body.cursor);
  if (typeof start !== 'number') return start;
  const served = readings.fewerThanLimit ? Math.max(1, Math.floor(limit / 2)) : limit;
  state.syncMsgCalls += 1;
  // Every other call is an empty page with has_more = 1 (a new cursor, same place).
  if (readings.emptyPages && start < list.length && state.syncMsgCalls % 2 === 1) {
    return ok({ next_cursor: encodeCursor(state, scope, start), has_more: 1, msg_list: [] });
  }
  const page = list.slice(start, start + served);
  if (readings.order === 'reversed-pages') page.reverse();
  const next = start + page.length;
  return ok({ next_cursor: encodeCursor(state, scope, next), has_more: next < list.length ? 1 : 0, msg_list: page });
}

/**
 * Where a page starts in the scope's items: no cursor, from the oldest retained message (doc);
 * a cursor, from its position, past what aged out since; a cursor issued more than 3 days ago
 * as the `expiredCursor` reading says (50100, or from the oldest retained message).
 */
function startOf(state: WecomState, list: readonly WecomItem[], scope: string, cursor: unknown) {
  const firstRetained = list.findIndex((item) => state.retained(item));
  const oldest = firstRetained === -1 ? list.length : firstRetained;
  if (cursor === undefined) return oldest;
  const position = typeof cursor === 'string' ? decodeCursor(cursor) : undefined;
  if (!position || position.scope !== scope) return fail(40058, 'invalid cursor');
  const issuedAt = state.cursorIssuedAt.get(position.serial);
  if (issuedAt !== undefined && state.now() - issuedAt > RETENTION_MS) {
    if (state.readings.expiredCursor === 'reject') return fail(50100, 'invalid cursor');
    return oldest;
  }
  return Math.max(position.index, oldest);
}

/** A refused callback token (95007) or an exhausted token-less budget (45009), else undefined. */
function checkToken(state: WecomState, token: string | undefined, openKfId: string) {
  if (token === undefined) {
    state.tokenlessCalls += 1;
    const budget = state.readings.tokenlessCalls;
    return budget !== undefined && state.tokenlessCalls > budget ? fail(45009, 'api freq out of limit') : undefined;
  }
  const issued = state.callbackTokens.get(token);
  const expired = !issued || state.now() - issued.issuedAt > 10 * 60_000;
  const reused = state.readings.tokenReuse === 'first-page-only' && (issued?.pagesServed ?? 0) > 0;
  const foreign = state.readings.tokenReuse === 'own-account-only' && issued?.openKfId !== openKfId;
  if (expired || reused || foreign || !issued) return fail(95007, 'invalid msg token');
  issued.pagesServed += 1;
  return undefined;
}

function encodeCursor(state: WecomState, scope: string, index: number): string {
  const serial = state.serial();
  state.cursorIssuedAt.set(serial, state.now());
  return Buffer.from(`${scope}|${index}|${serial}`).toString('base64url');
}

function decodeCursor(cursor: string): { scope: string; index: number; serial: number } | undefined {
  const [scope, index, serial] = Buffer.from(cursor, 'base64url').toString().split('|');
  const at = Number(index);
  return scope !== undefined && Number.isInteger(at) && at >= 0
    ? { scope, index: at, serial: Number(serial) }
    : undefined;
}
