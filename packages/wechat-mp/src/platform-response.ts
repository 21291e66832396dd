import { coreError, formatZodIssue, type HttpResponse, type KefuError } from '@kefu/core';
import type { z } from 'zod';
import { platformError, wechatMpError } from './errors.js';
import { parsePlatformJson } from './platform-json.js';
import { ErrorEnvelopeSchema } from './wechat-mp-schemas.js';

/** What a decoded response is about, for error messages. */
export interface ResponseContext {
  call: string;
  appId: string;
  now: number;
}

/** A decoded platform answer: either the validated payload or the platform's typed error. */
export type PlatformResult<T> = { ok: true; value: T; raw: unknown } | { ok: false; errcode: number; error: KefuError };

/**
 * Turns an HTTP response into the validated payload or the typed platform error.
 * WeChat answers errors as HTTP 200 `{errcode, errmsg}` (errcode 0 or absent = success).
 */
export function decodePlatformResponse<S extends z.ZodType>(
  response: HttpResponse,
  schema: S,
  context: ResponseContext,
): PlatformResult<z.output<S>> {
  if (response.status >= 400) {
    throw coreError('KEFU_HTTP_STATUS', `WeChat ${context.call} answered HTTP ${response.status}`, {
      retryable: response.status >= 500 || response.status === 429,
      details: { status: response.status, call: context.call },
    });
  }
  let body: unknown;
  try {
    body = parsePlatformJson(response.body);
  } catch (error) {
    throw coreError('KEFU_HTTP_BAD_BODY', `WeChat ${context.call} answered a body that is not JSON`, {
      cause: error,
      details: { call: context.call, bytes: response.body.length },
    });
  }
  const envelope = ErrorEnvelopeSchema.safeParse(body);
  const errcode = envelope.success ? (envelope.data.errcode ?? 0) : 0;
  if (errcode !== 0) {
    return { ok: false, errcode, error: platformError(errcode, envelope.data?.errmsg ?? '', context) };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw wechatMpError(
      'WECHAT_BAD_RESPONSE',
      `WeChat ${context.call} answered an unexpected shape: ${formatZodIssue(issue)}`,
      { details: { call: context.call, issues: parsed.error.issues.slice(0, 5).map((i) => i.message) } },
    );
  }
  return { ok: true, value: parsed.data, raw: body };
}
