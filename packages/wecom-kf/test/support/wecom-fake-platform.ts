import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A WeCom kf platform on loopback for this package's tests, written from wecom-kf.md (not
 * from the provider): gettoken, kf/sync_msg over a list of msg_list items, the management
 * calls the tests use, media/get. Every point the docs leave open is a knob (`readings`),
 * so the provider's tests run across every legitimate reading, with per-call errcode faults; the
 * emulator's WeCom platform (packages/emulator/src/wecom) serves the same readings end to end.
 */

/** The readings of the open points (wecom-kf.md §9). */
export interface WecomReadings {
  /** A1: cursors and results per open_kfid (doc 2024), or per app with open_kfid ignored (older copies). */
  cursorScope: 'per-account' | 'per-app';
  /** A2: a callback token serves every page and account, only the first page, or only its own account. */
  tokenReuse: 'any' | 'first-page-only' | 'own-account-only';
  /** A3: token-less calls allowed before 45009 (Infinity = no limit). */
  tokenlessCalls: number;
  /** A8: gettoken returns the same token while valid, or a new one (invalidating the old) each call. */
  gettoken: 'same-while-valid' | 'new-each-call';
  /** A9: msg_list in send_time order, or each page's items reversed. */
  order: 'send-time' | 'reversed-pages';
  /** §3.2: pages may be empty with has_more = 1 (every second page here) — legal per the doc. */
  emptyPages: boolean;
  /** §3.1 limit: "fewer may be returned": serve half the limit. */
  fewerThanLimit: boolean;
}

/** The doc-default reading. */
export const DOC_READING: WecomReadings = {
  cursorScope: 'per-account',
  tokenReuse: 'any',
  tokenlessCalls: Number.POSITIVE_INFINITY,
  gettoken: 'same-while-valid',
  order: 'send-time',
  emptyPages: false,
  fewerThanLimit: false,
};

/** Options of {@link startWecomFakePlatform}. */
export interface WecomFakeOptions {
  corpId: string;
  secret: string;
  items: Record<string, unknown>[];
  readings?: Partial<WecomReadings>;
  /** The platform's clock, ms (retention is 3 days before it). */
  now?: () => number;
  /** Errcodes to answer instead, in order, for the next calls of a path (`kf/sync_msg` → [-1, 40014]). */
  faults?: Record<string, number[]>;
  media?: Record<string, Buffer>;
}

/** A running fake platform. */
export interface WecomFakePlatform {
  url: string;
  readonly calls: { path: string; body: Record<string, unknown> }[];
  /** Issues a callback token for `openKfId` (what a kf_msg_or_event callback carries). */
  issueCallbackToken(openKfId: string): string;
  readonly gettokenCalls: number;
  readonly syncMsgCalls: number;
  readonly sent: Record<string, unknown>[];
  stop(): Promise<void>;
}

const RETENTION_MS = 3 * 86_400_000;

function accountOf(item: Record<string, unknown>): unknown {
  const event = item.event as Record<string, unknown> | undefined;
  return item.open_kfid ?? event?.open_kfid;
}

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startWecomFakePlatform(options: WecomFakeOptions): Promise<WecomFakePlatform> {
  const readings = { ...DOC_READING, ...options.readings };
  const now = options.now ?? Date.now;
  const calls: { path: string; body: Record<string, unknown> }[] = [];
  const sent: Record<string, unknown>[] = [];
  const validTokens = new Set<string>();
  const callbackTokens = new Map<string, { openKfId: string; pagesServed: number; issuedAt: number }>();
  let tokenSerial = 0;
  let cursorSerial = 0;
  let gettokenCalls = 0;
  let syncMsgCalls = 0;
  let tokenlessCalls = 0;
  let current: string | undefined;

  const json = (response: ServerResponse, body: unknown) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const error = (response: ServerResponse, errcode: number, errmsg = 'error') => json(response, { errcode, errmsg });

  const gettoken = (url: URL, response: ServerResponse) => {
    gettokenCalls += 1;
    if (url.searchParams.get('corpid') !== options.corpId) return error(response, 40013, 'invalid corpid');
    if (url.searchParams.get('corpsecret') !== options.secret) return error(response, 40001, 'invalid credential');
    if (readings.gettoken === 'new-each-call' || current === undefined) {
      if (current) validTokens.delete(current);
      tokenSerial += 1;
      current = `ACCESS_TOKEN_${tokenSerial}`;
      validTokens.add(current);
    }
    json(response, { errcode: 0, errmsg: 'ok', access_token: current, expires_in: 7200 });
  };

  /** The items a cursor scope sees, oldest first, within the 3-day retention. */
  const visible = (openKfId: string) =>
    options.items.filter(
      (item) =>
        Number(item.send_time) * 1000 >= now() - RETENTION_MS &&
        (readings.cursorScope === 'per-app' || accountOf(item) === openKfId),
    );

  const encodeCursor = (scope: string, index: number) => {
    cursorSerial += 1;
    return Buffer.from(`${scope}|${index}|${cursorSerial}`).toString('base64url');
  };
  const decodeCursor = (cursor: string): { scope: string; index: number } | undefined => {
    const [scope, index] = Buffer.from(cursor, 'base64url').toString().split('|');
    return scope !== undefined && index !== undefined ? { scope, index: Number(index) } : undefined;
  };

  const syncMsg = (body: Record<string, unknown>, response: ServerResponse) => {
    syncMsgCalls += 1;
    const openKfId = String(body.open_kfid ?? '');
    if (!openKfId) return error(response, 40058, 'open_kfid required');
    const token = typeof body.token === 'string' ? body.token : undefined;
    if (token) {
      const issued = callbackTokens.get(token);
      const expired = !issued || now() - issued.issuedAt > 10 * 60_000;
      const reused = readings.tokenReuse === 'first-page-only' && issued !== undefined && issued.pagesServed > 0;
      const foreign = readings.tokenReuse === 'own-account-only' && issued?.openKfId !== openKfId;
      if (expired || reused || foreign) return error(response, 95007, 'invalid msg token');
      issued.pagesServed += 1;
    } else {
      tokenlessCalls += 1;
      if (tokenlessCalls > readings.tokenlessCalls) return error(response, 45009, 'api freq out of limit');
    }
    const scope = readings.cursorScope === 'per-app' ? '*' : openKfId;
    const decoded = typeof body.cursor === 'string' ? decodeCursor(body.cursor) : { scope, index: 0 };
    if (!decoded || decoded.scope !== scope) return error(response, 40058, 'invalid cursor');
    const list = visible(openKfId);
    const limit = Math.min(Number(body.limit ?? 1000), 1000);
    const served = readings.fewerThanLimit ? Math.max(1, Math.floor(limit / 2)) : limit;
    // An empty page with has_more = 1 before every page that has items, when asked.
    if (readings.emptyPages && decoded.index < list.length && syncMsgCalls % 2 === 1) {
      return json(response, {
        errcode: 0,
        errmsg: 'ok',
        next_cursor: encodeCursor(scope, decoded.index),
        has_more: 1,
        msg_list: [],
      });
    }
    const page = list.slice(decoded.index, decoded.index + served);
    if (readings.order === 'reversed-pages') page.reverse();
    const next = decoded.index + page.length;
    json(response, {
      errcode: 0,
      errmsg: 'ok',
      next_cursor: encodeCursor(scope, next),
      has_more: next < list.length ? 1 : 0,
      msg_list: page,
    });
  };

  const handle = (request: IncomingMessage, response: ServerResponse, text: string) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/^\/cgi-bin\//, '');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    calls.push({ path, body });
    if (path === 'gettoken') return gettoken(url, response);
    const fault = options.faults?.[path]?.shift();
    if (fault !== undefined && [40014, 42001].includes(fault) && current) {
      // The platform invalidated the token early ("可能会提前失效", doc 91039).
      validTokens.delete(current);
      current = undefined;
    }
    if (fault !== undefined) return error(response, fault, 'scripted fault');
    if (!validTokens.has(url.searchParams.get('access_token') ?? ''))
      return error(response, 40014, 'invalid access_token');
    if (path === 'kf/sync_msg') return syncMsg(body, response);
    if (path === 'kf/send_msg') {
      sent.push(body);
      return json(response, { errcode: 0, errmsg: 'ok', msgid: body.msgid ?? `sent_${sent.length}` });
    }
    if (path === 'kf/account/list') {
      const ids = [...new Set(options.items.map(accountOf).filter((id): id is string => typeof id === 'string'))];
      return json(response, { errcode: 0, errmsg: 'ok', account_list: ids.map((id) => ({ open_kfid: id, name: id })) });
    }
    if (path === 'kf/servicer/list') {
      return json(response, {
        errcode: 0,
        errmsg: 'ok',
        servicer_list: [{ userid: 'zhangsan', status: 0 }, { userid: 'lisi', status: 1 }, { department_id: 2 }],
      });
    }
    if (path === 'media/get') {
      const media = options.media?.[url.searchParams.get('media_id') ?? ''];
      if (!media) return error(response, 40007, 'invalid media_id');
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      return response.end(media);
    }
    error(response, 404, `no such api ${path}`);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    sent,
    get gettokenCalls() {
      return gettokenCalls;
    },
    get syncMsgCalls() {
      return syncMsgCalls;
    },
    issueCallbackToken(openKfId: string) {
      cursorSerial += 1;
      const token = `ENCA${cursorSerial}${openKfId}`;
      callbackTokens.set(token, { openKfId, pagesServed: 0, issuedAt: now() });
      return token;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Doc-shaped items (wecom-kf.md §4): `count` customer texts of `openKfId`, one a second from `start` (s). */
export function textItems(openKfId: string, count: number, start: number, prefix = 'msg'): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => ({
    msgid: `${prefix}_${openKfId}_${index}`,
    open_kfid: openKfId,
    external_userid: `wm_customer_${index % 3}`,
    send_time: start + index,
    origin: 3,
    msgtype: 'text',
    text: { content: `hello ${index}` },
  }));
}
