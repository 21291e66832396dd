import type { ApiArea } from '../platform-kit.js';
import { fail, ok, WECOM_PREFIX } from './wecom-answers.js';
import type { WecomRoute, WecomState } from './wecom-state.js';

/**
 * `POST /cgi-bin/kf/sync_msg` (doc 94670, wecom-kf.md §3): `{cursor?, token?, limit ≤ 1000,
 * voice_format, open_kfid}` → `{next_cursor, has_more, msg_list}`; without a cursor, from the
 * oldest message of the last 3 days; a callback token lives 10 minutes (95007 after). The open
 * points are the state's readings: cursor scope, token reuse, token-less limit, order, empty
 * pages, short pages.
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
  const position = typeof body.cursor === 'string' ? decodeCursor(body.cursor) : { scope, index: 0 };
  if (!position || position.scope !== scope) return fail(40058, 'invalid cursor');
  const list = state.visible(openKfId);
  const served = readings.fewerThanLimit ? Math.max(1, Math.floor(limit / 2)) : limit;
  state.syncMsgCalls += 1;
  // Every other call is an empty page with has_more = 1 (a new cursor, same place).
  if (readings.emptyPages && position.index < list.length && state.syncMsgCalls % 2 === 1) {
    return ok({ next_cursor: encodeCursor(state, scope, position.index), has_more: 1, msg_list: [] });
  }
  const page = list.slice(position.index, position.index + served);
  if (readings.order === 'reversed-pages') page.reverse();
  const next = position.index + page.length;
  return ok({ next_cursor: encodeCursor(state, scope, next), has_more: next < list.length ? 1 : 0, msg_list: page });
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
  return Buffer.from(`${scope}|${index}|${state.serial()}`).toString('base64url');
}

function decodeCursor(cursor: string): { scope: string; index: number } | undefined {
  const [scope, index] = Buffer.from(cursor, 'base64url').toString().split('|');
  const at = Number(index);
  return scope !== undefined && Number.isInteger(at) && at >= 0 ? { scope, index: at } : undefined;
}
