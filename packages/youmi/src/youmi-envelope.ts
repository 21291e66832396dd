import { parseJsonBytes } from '@kefu/core';
import { z } from 'zod';

/**
 * The one envelope of Youmi's v2 and v1 answers (platforms/youmi-api.md §1.1, §1.2):
 * `{requestId?, errmsg, succeed, msgTime, values, errdesc}`. `succeed` decides, not the HTTP
 * status and not the code: v2 succeeds with `errmsg` 0, v1 data calls with 20000, the v1
 * token call with 10004. The codes of 错误码返回说明 (§1.3) are the only documented list.
 */

/** An integer sent either as a JSON number or as a string of digits. */
export const integerLike = z.union([
  z.int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);

/** The envelope of v2 and v1 answers; unknown fields pass, `requestId` may be null or a string. */
export const YoumiEnvelopeSchema = z.looseObject({
  requestId: z.unknown().optional(),
  /** Youmi's numeric result code (v2 success 0, v1 20000 / 10004). */
  errmsg: integerLike,
  succeed: z.boolean(),
  /** Server time; its format varies between examples (ISO with 7 fraction digits, `2018/5/11 14:47:48`). */
  msgTime: z.string().nullish(),
  values: z.unknown(),
  errdesc: z.string().nullish(),
});
/** A Youmi envelope. */
export type YoumiEnvelope = z.infer<typeof YoumiEnvelopeSchema>;

/**
 * Codes meaning "the token is not (or no longer) valid" (§1.3): 10003 令牌失效 (invalid /
 * expired) and 10011 (exception while checking the user's token). A call refused with one
 * of them gets a fresh token and is sent again. 200004 is "Signature missing", not a token
 * problem.
 */
export const TOKEN_INVALID_CODES: ReadonlySet<number> = new Set([10003, 10011]);

/**
 * Codes worth sending again after a pause (§1.3): 200011 server error, and the v1 replay
 * window (200005 request older than 10 minutes, 10006 signature timestamp expired), which a
 * fresh signature fixes.
 */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([200011, 200005, 10006]);

/** The meaning of each documented code (§1.3), for messages. */
export const YOUMI_CODE_MEANINGS: ReadonlyMap<number, string> = new Map([
  [10003, 'token invalid or expired (令牌失效)'],
  [10004, 'data fetched'],
  [10005, 'data-integrity check failed'],
  [10006, 'signature timestamp expired'],
  [10011, 'exception while checking the token'],
  [20000, 'operation completed'],
  [200001, 'access_token missing'],
  [200002, 'Nonce missing'],
  [200003, 'Timestamp missing'],
  [200004, 'Signature missing'],
  [200005, 'request older than 10 minutes'],
  [200006, 'wrong encryption key (the signature does not match)'],
  [200007, 'APPID missing'],
  [200008, "the friend's original WeChat id is missing"],
  [200009, 'no such friend'],
  [200010, 'staff number does not exist'],
  [200011, 'server error'],
  [200012, 'bad parameters from the caller'],
  [200013, 'IM send error'],
  [200014, "the operating account's original WeChat id is missing"],
  [200015, "the operating account's WeChat id is missing"],
  [200016, 'the WeChat id / phone to add is empty'],
  [200017, 'add-fans setting not enabled'],
  [200018, 'WeChat id does not exist'],
  [200019, 'operation failed'],
  [200020, 'group id missing'],
  [200021, 'group does not exist'],
  [200022, 'not a friend of the operating account'],
  [200023, 'group operation without a friend list'],
  [200024, 'group member does not exist'],
]);

/** Reads an envelope out of any JSON body; undefined when the body is not one. */
export function readEnvelope(body: unknown): YoumiEnvelope | undefined {
  const parsed = YoumiEnvelopeSchema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Reads an envelope out of a body (its bytes, or its text); undefined when it is not JSON
 * or not an envelope. Bytes are parsed in pieces ({@link parseJsonBytes}): a page of chats
 * never becomes one large string.
 */
export function readEnvelopeText(body: string | Buffer): YoumiEnvelope | undefined {
  let json: unknown;
  try {
    json = typeof body === 'string' ? JSON.parse(body) : parseJsonBytes(body);
  } catch {
    return undefined;
  }
  return readEnvelope(json);
}

/**
 * What kefu answers a Youmi push, in the push's own generation: v1 pushes expect
 * `{Result, ReturnCode, Message}` (§4), v2 pushes the v2 envelope (§1.1). `message` is
 * the error description of a refusal (HTTP status and `errmsg` 400).
 */
export function pushAnswer(generation: 'v1' | 'v2', refusal?: string): Record<string, unknown> {
  if (generation === 'v1') {
    return refusal === undefined
      ? { Result: true, ReturnCode: 200, Message: '操作完成' }
      : { Result: false, ReturnCode: 400, Message: refusal };
  }
  return refusal === undefined
    ? { requestId: null, errmsg: 0, succeed: true, values: null, errdesc: null }
    : { requestId: null, errmsg: 400, succeed: false, values: null, errdesc: refusal };
}
