import { request } from 'undici';
import type { RunningEmulator } from '../src/index.js';

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
