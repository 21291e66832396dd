import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { type FaultOptions, startEmulator } from '../src/index.js';
import type { YoumiEmulatorOptions } from '../src/youmi/index.js';

/** A fixed emulator clock start, so the generated history is the same on every run. */
export const YOUMI_TEST_START = Date.UTC(2026, 0, 15, 4, 30, 0);

/** The envelope of v2 and v1 answers (platforms/youmi-api.md §1.1–1.2). */
export interface Envelope {
  requestId?: string | null;
  errmsg: number;
  succeed: boolean;
  msgTime: string;
  values: unknown;
  errdesc: string | null;
}

/** An HTTP answer: status, raw text and the JSON body when there is one. */
export interface Answer {
  status: number;
  text: string;
  body: Envelope;
  headers: Record<string, string | string[] | undefined>;
}

async function answerOf(response: Awaited<ReturnType<typeof request>>): Promise<Answer> {
  const text = await response.body.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: response.statusCode, text, body: body as Envelope, headers: response.headers };
}

/** The v1 signature as the docs describe it: UrlEncode(Base64(HMAC-SHA1(appKey, message))). */
export function v1Sign(appKey: string, message: string, encode = true): string {
  const base64 = createHmac('sha1', appKey).update(message, 'utf8').digest('base64');
  return encode ? encodeURIComponent(base64) : base64;
}

/** The emulator with the clock at {@link YOUMI_TEST_START}, driven through plain undici requests as any client would. */
export async function startYoumi(seed: string, youmi: YoumiEmulatorOptions = {}, faults: FaultOptions = {}) {
  const emulator = await startEmulator({ seed, now: YOUMI_TEST_START, youmi, faults });
  const info = emulator.youmi;
  const fetchToken = async (form: Record<string, string>, headers: Record<string, string> = {}) => {
    const response = await request(info.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    return answerOf(response) as Promise<Answer & { body: Envelope & Record<string, unknown> }>;
  };
  const token = async () =>
    (
      await fetchToken({
        grant_type: 'client_credentials',
        client_id: info.clientId,
        client_secret: info.clientSecret,
        scope: info.scope,
      })
    ).body.access_token as unknown as string;
  let bearer = await token();
  const raw = async (
    path: string,
    body: string | undefined,
    headers: Record<string, string> = {},
    method: 'POST' | 'GET' = 'POST',
  ) =>
    answerOf(
      await request(`${info.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers },
        ...(method === 'POST' && body !== undefined ? { body } : {}),
      }),
    );
  /** POSTs a v2 call and returns its envelope. */
  const call = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
    (await raw(path, JSON.stringify(body), headers)).body;
  /** The v1 token call, signed as documented. */
  const v1Token = async (overrides: Record<string, unknown> = {}, contentType = 'text/json') => {
    const nonce = 'n0nce';
    const timestamp = String(Math.floor(emulator.clock.now() / 1000));
    const body = {
      AppId: info.v1.appId,
      Nonce: nonce,
      Timestamp: timestamp,
      Signature: v1Sign(info.v1.appKey, `${info.v1.appId}${nonce}${timestamp}`),
      ...overrides,
    };
    return answerOf(
      await request(`${info.v1.tokenUrl}?format=json`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: JSON.stringify(body),
      }),
    );
  };
  /** A v1 data call with the documented signed headers. */
  const v1Call = async (
    path: string,
    accessToken: string,
    options: { method?: 'GET' | 'POST'; body?: unknown; headers?: Record<string, string>; timestamp?: number } = {},
  ) => {
    const nonce = 'abc123';
    const timestamp = String(options.timestamp ?? Math.floor(emulator.clock.now() / 1000));
    const method = options.method ?? 'GET';
    return answerOf(
      await request(`${info.v1.baseUrl}${path}`, {
        method,
        headers: {
          'content-type': 'text/json',
          access_token: accessToken,
          nonce,
          timestamp,
          signature: v1Sign(info.v1.appKey, `${accessToken}${nonce}${timestamp}`),
          ...options.headers,
        },
        ...(method === 'POST' ? { body: JSON.stringify(options.body ?? {}) } : {}),
      }),
    );
  };
  return {
    emulator,
    info,
    call,
    raw,
    fetchToken,
    token,
    v1Token,
    v1Call,
    setBearer(value: string) {
      bearer = value;
    },
    now: () => emulator.clock.now(),
    advance: (ms: number) => emulator.clock.advance(ms),
    setFaults: (faults: FaultOptions) => emulator.setFaults(faults),
    close: () => emulator.stop(),
  };
}

/** A running Youmi emulator as {@link startYoumi} returns it. */
export type YoumiUnderTest = Awaited<ReturnType<typeof startYoumi>>;
