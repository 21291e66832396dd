import { firstZodIssue } from '@kefu/core';
import type { z } from 'zod';
import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import { hash32 } from '../seeded-random.js';
import { WECHAT_OK, WechatErrcode, wechatError } from './wechat-errcodes.js';

/**
 * How WeChat answers, shared by every API area: `{errcode: 0}` or an errcode with HTTP 200,
 * JSON bodies parsed into the same errcodes, the request id appended to error messages.
 */

/** A success answer (`{errcode: 0, errmsg: "ok"}` unless a body is given). */
export const ok = (body: unknown = WECHAT_OK): EmulatorResponse => ({ status: 200, body });

/** An error answer: HTTP 200 with the errcode, like every WeChat error. */
export const fail = (errcode: number, detail?: string): EmulatorResponse => ({
  status: 200,
  body: wechatError(errcode, detail),
});

/** Unix seconds of an emulator time in ms. */
export function sec(ms: number): number {
  return Math.floor(ms / 1000);
}

/** The JSON body of a request, or the 47001 answer when it is not JSON. */
export function parseJson(request: EmulatorRequest): { value: unknown } | { error: EmulatorResponse } {
  try {
    return { value: JSON.parse(request.body.toString('utf8')) };
  } catch {
    return { error: fail(WechatErrcode.dataFormat, 'the body is not valid JSON') };
  }
}

/** The body validated by `schema`, or the errcode answer (47001 unless said otherwise) naming the field. */
export function parseBody<T extends z.ZodType>(
  request: EmulatorRequest,
  schema: T,
  errcode: number = WechatErrcode.dataFormat,
): { value: z.infer<T> } | { error: EmulatorResponse } {
  const raw = parseJson(request);
  if ('error' in raw) return raw;
  const parsed = schema.safeParse(raw.value);
  return parsed.success ? { value: parsed.data } : { error: fail(errcode, describeIssue(parsed.error)) };
}

/** The first zod issue as `body.field: message`. */
export function describeIssue(error: z.ZodError): string {
  return firstZodIssue(error, 'body');
}

/**
 * The answer to a path under /cgi-bin/ or /customservice/ that is no API. Not definitive: no
 * captured answer of api.weixin.qq.com to an unknown path was found. The official global
 * return codes define 40066 "invalid url" as "请检查API的URL是否与文档一致" (check the API URL
 * against the docs: https://developers.weixin.qq.com/doc/store/API/basics/commErrCode.html), and
 * SDK comments quote it for bad URLs ({"errcode":40066,"errmsg":"invalid url hint: [Fdd38a0167vr47!]"}),
 * so the emulator answers that, HTTP 200 like every WeChat error, before looking at the token.
 */
export function unknownApi(request: EmulatorRequest): EmulatorResponse {
  return fail(WechatErrcode.invalidUrl, `no API ${request.method} ${request.url.pathname}`);
}

/**
 * Adds the request id WeChat appends to every error message (` rid: 6543a1b2-0c1d2e3f-4a5b6c7d`:
 * the request's unix second in hex, then two hex words), so clients meet the real shape.
 */
export function withRequestId(answer: EmulatorResponse, request: EmulatorRequest): EmulatorResponse {
  const body = answer.body as { errcode?: unknown; errmsg?: unknown } | null;
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return answer;
  if (typeof body.errcode !== 'number' || body.errcode === 0 || typeof body.errmsg !== 'string') return answer;
  const sequence = request.sequence ?? 0;
  const hex = (value: number) => value.toString(16).padStart(8, '0');
  const rid = `${hex(sec(request.receivedAt))}-${hex(hash32('rid', sequence, 1))}-${hex(hash32('rid', sequence, 2))}`;
  return { ...answer, body: { ...body, errmsg: `${body.errmsg} rid: ${rid}` } };
}

/**
 * Turns JSON escapes of control characters (`\\t`, `\\n`, `\\r`, `\\b`, `\\f`, `\\u0000`–`\\u001f`) back into
 * the raw characters. An escape preceded by an odd number of backslashes is text, not an escape, and stays.
 */
export function unescapeControlCharacters(json: string): string {
  const short: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f' };
  return json.replace(
    /(?<!\\)((?:\\\\)*)\\(?:([tnrbf])|u00([01][0-9a-fA-F]))/g,
    (_match, lead: string, letter?: string, hex?: string) =>
      lead + (letter ? (short[letter] as string) : String.fromCharCode(Number.parseInt(hex as string, 16))),
  );
}
