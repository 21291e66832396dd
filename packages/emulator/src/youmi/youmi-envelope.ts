import { formatZodIssue } from '@kefu/core';
import type { z } from 'zod';
import type { TokenRejection } from './youmi-auth.js';
import type { YoumiEnvelope } from './youmi-schemas.js';
import { formatYoumiTime, type YoumiTimeFormat } from './youmi-time.js';

/**
 * How the emulated Youmi API answers, v2 and v1 alike: the envelope
 * `{requestId, errmsg, succeed, msgTime, values, errdesc}` with HTTP 200 (§1.1, §1.2 of
 * platforms/youmi-api.md), success `errmsg` 0 (v2), 20000 (v1 data calls) or 10004 (v1
 * token). v2 error codes are not documented: failures answer with the codes of the only
 * documented list (错误码返回说明, §1.3).
 */

/** The `errmsg` codes the emulator answers, from §1.3 (and 0 for v2 success). */
export const YOUMI_ERRMSG = {
  ok: 0,
  /** 令牌失效: token invalid, expired or revoked. */
  tokenInvalid: 10003,
  /** 获取数据成功: the v1 token call. */
  tokenIssued: 10004,
  /** Signature timestamp expired. */
  signatureTimestampExpired: 10006,
  /** 操作完成: v1 data calls. */
  done: 20000,
  accessTokenMissing: 200001,
  nonceMissing: 200002,
  timestampMissing: 200003,
  signatureMissing: 200004,
  /** Request older than 10 minutes. */
  requestExpired: 200005,
  /** Wrong encryption key: the signature does not match. */
  wrongKey: 200006,
  appIdMissing: 200007,
  /** The friend's original WeChat id is missing. */
  friendIdMissing: 200008,
  noSuchFriend: 200009,
  noSuchStaff: 200010,
  /** The operating account's original WeChat id is missing. */
  accountIdMissing: 200014,
  serverError: 200011,
  badParameters: 200012,
  /** WeChat id does not exist: the emulator's answer for an unknown wechatId. */
  noSuchWechatId: 200018,
  operationFailed: 200019,
} as const;

/** A business failure answered as an envelope; thrown by handlers, caught by the router. */
export class EnvelopeFailure extends Error {
  constructor(
    readonly errmsg: number,
    readonly errdesc: string,
  ) {
    super(errdesc);
  }
}

/** Describes a validation failure as `field: problem` for errdesc. */
function describeIssue(issues: ReadonlyArray<z.core.$ZodIssue>): string {
  const issue = issues[0];
  // Youmi's own wording for a missing field, not zod's "received undefined".
  const message = issue && /received undefined/.test(issue.message) ? 'is required' : issue?.message;
  return formatZodIssue(issue && message !== undefined ? { path: issue.path, message } : undefined, 'body');
}

/** Validates a request body; throws a 200012 (bad parameters) {@link EnvelopeFailure} naming the bad field. */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, describeIssue(result.error.issues));
  return result.data;
}

/** Parses a JSON body; empty or `null` means `{}` (seed 002: the body is `object | null`). */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) ?? {};
  } catch {
    throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'body: must be JSON');
  }
}

/** The first value of a header. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** An envelope at the emulator time `now`; `succeed` is true for the success codes. */
export function youmiEnvelope(
  now: number,
  format: YoumiTimeFormat,
  values: unknown,
  errmsg: number = YOUMI_ERRMSG.ok,
  errdesc: string | null = null,
  requestId: string | null = null,
): YoumiEnvelope {
  const succeed = errmsg === YOUMI_ERRMSG.ok || errmsg === YOUMI_ERRMSG.done || errmsg === YOUMI_ERRMSG.tokenIssued;
  return { requestId, errmsg, succeed, msgTime: formatYoumiTime(now, format), values, errdesc };
}

/** The errdesc for a refused token. */
export function tokenRejectionText(rejection: TokenRejection): string {
  switch (rejection) {
    case 'missing':
      return 'token missing; get one from the token endpoint';
    case 'unknown':
      return '令牌失效: invalid token';
    case 'expired':
      return '令牌失效: token expired; get a new one';
    case 'revoked':
      return '令牌失效: token revoked; get a new one';
  }
}
