import { coreError, formatZodIssue, type HttpResponse, type KefuError, parseJsonBytes } from '@kefu/core';
import type { z } from 'zod';
import { type ErrorContext, platformError, wecomKfError } from './errors.js';
import { ErrorEnvelopeSchema } from './wecom-kf-schemas.js';

/** A decoded platform answer: the validated payload, or the platform's typed error with its errcode. */
export type PlatformResult<T> = { ok: true; value: T; raw: unknown } | { ok: false; errcode: number; error: KefuError };

/** Parses a body as JSON, failing with KEFU_HTTP_BAD_BODY. */
export function parseJsonBody(response: HttpResponse, call: string): unknown {
  try {
    return parseJsonBytes(response.body);
  } catch (error) {
    throw coreError('KEFU_HTTP_BAD_BODY', `WeCom ${call} answered a body that is not JSON`, {
      cause: error,
      details: { call, bytes: response.body.length },
    });
  }
}

/**
 * Turns an HTTP response into the validated payload or the typed platform error. WeCom
 * answers errors as HTTP 200 `{errcode, errmsg}` (errcode 0 or absent = success).
 */
export function decodePlatformResponse<S extends z.ZodType>(
  response: HttpResponse,
  schema: S,
  context: ErrorContext,
): PlatformResult<z.output<S>> {
  if (response.status >= 400) {
    throw coreError('KEFU_HTTP_STATUS', `WeCom ${context.call} answered HTTP ${response.status}`, {
      retryable: response.status >= 500 || response.status === 429,
      details: { status: response.status, call: context.call },
    });
  }
  const body = parseJsonBody(response, context.call);
  const envelope = ErrorEnvelopeSchema.safeParse(body);
  const errcode = envelope.success ? (envelope.data.errcode ?? 0) : 0;
  if (errcode !== 0) {
    return { ok: false, errcode, error: platformError(errcode, envelope.data?.errmsg ?? '', context) };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw wecomKfError(
      'WECOM_BAD_RESPONSE',
      `WeCom ${context.call} answered an unexpected shape: ${formatZodIssue(parsed.error.issues[0])}`,
      { details: { call: context.call, issues: parsed.error.issues.slice(0, 5).map((issue) => issue.message) } },
    );
  }
  return { ok: true, value: parsed.data, raw: body };
}
