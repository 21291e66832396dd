import { request } from 'undici';
import type { RunningEmulator, WechatRawRecord, WechatRecordKnobs } from '../src/index.js';

/** A parsed answer of the emulator. */
export interface Answer {
  status: number;
  contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
  body: any;
}

/** Calls the emulator with plain undici and parses the JSON answer. */
export async function call(
  emulator: RunningEmulator,
  method: 'GET' | 'POST',
  path: string,
  options: { query?: Record<string, string>; json?: unknown; rawBody?: string; token?: string } = {},
): Promise<Answer> {
  const url = new URL(path, emulator.wechat.baseUrl);
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  if (options.token !== undefined) url.searchParams.set('access_token', options.token);
  const body = options.rawBody ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
  const response = await request(url, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    body: JSON.parse(text),
  };
}

/** Fetches a fresh /cgi-bin/token access token for account `index`. */
export async function tokenFor(emulator: RunningEmulator, index = 0): Promise<string> {
  const account = emulator.wechat.accounts[index];
  if (!account) throw new Error(`no account ${index}`);
  const answer = await call(emulator, 'GET', '/cgi-bin/token', {
    query: { grant_type: 'client_credential', appid: account.appId, secret: account.secret },
  });
  if (typeof answer.body.access_token !== 'string') throw new Error(`no token: ${JSON.stringify(answer.body)}`);
  return answer.body.access_token;
}

/** The customers of account `index` with the time of their last message (emulator control endpoint). */
export async function customersOf(
  emulator: RunningEmulator,
  index = 0,
): Promise<Array<{ openid: string; last_message_time: number }>> {
  const account = emulator.wechat.accounts[index];
  const answer = await call(emulator, 'GET', '/__emulator/wechat/customers', {
    query: { appid: account?.appId ?? '' },
  });
  return answer.body.customers;
}

/** A getmsglist page as answered. */
export interface MsgListPage {
  recordlist: WechatRawRecord[];
  number: number;
  msgid: number;
}

/** True when a continuation page starts with the previous page's last record (inclusive bound, last id answered). */
export function repeatsBoundary(knobs: WechatRecordKnobs): boolean {
  return knobs.msgidModel === 'global-id' && knobs.continuation === 'inclusive' && knobs.responseMsgid === 'last';
}

/**
 * Reads one getmsglist window as a client that knows the reading in force: passes the
 * answered msgid back, drops the repeated boundary record when the reading repeats it
 * (checking it is the previous page's last), stops on an empty or short page.
 */
export async function readMsgListWindow(
  emulator: RunningEmulator,
  token: string,
  request: { starttime: number; endtime: number; number: number },
): Promise<{ records: WechatRawRecord[]; pages: MsgListPage[] }> {
  const knobs = emulator.wechat.recordKnobs();
  const records: WechatRawRecord[] = [];
  const pages: MsgListPage[] = [];
  let msgid = 1;
  for (;;) {
    const answer = await call(emulator, 'POST', '/customservice/msgrecord/getmsglist', {
      token,
      json: { ...request, msgid },
    });
    if (answer.body.errcode !== undefined) throw new Error(`getmsglist answered ${JSON.stringify(answer.body)}`);
    const page = answer.body as MsgListPage;
    pages.push(page);
    const repeated = pages.length > 1 && repeatsBoundary(knobs);
    if (
      repeated &&
      page.recordlist.length > 0 &&
      JSON.stringify(page.recordlist[0]) !== JSON.stringify(records.at(-1))
    ) {
      throw new Error(`page ${pages.length} does not start with the previous page's last record`);
    }
    records.push(...page.recordlist.slice(repeated ? 1 : 0));
    if (page.recordlist.length < request.number) return { records, pages };
    msgid = page.msgid;
  }
}
