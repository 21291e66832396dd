import type { z } from 'zod';
import type { EmulatorResponse } from '../platform.js';
import type { TokenRejection } from './youmi-auth.js';
import type { YoumiEnvelope, YoumiV1Envelope } from './youmi-schemas.js';
import { formatYoumiTime } from './youmi-time.js';

/**
 * How the emulated Youmi API answers: the v2 envelope `{requestId, errmsg, succeed,
 * msgTime, values, errdesc}` (HTTP 200 even for business errors), the v1 envelope
 * `{Result, ReturnCode, Message, Data}`, and the codes both use (README "Error codes").
 */

/** The v2 `errmsg` codes the emulator answers (documented in the README). */
export const YOUMI_ERRMSG = {
  ok: 0,
  badRequest: 400,
  unauthorized: 401,
  forbiddenTenant: 403,
  notFound: 404,
  methodNotAllowed: 405,
  unknownWechatId: 1001,
  unknownFan: 1002,
  takeOverConflict: 1003,
  unknownTask: 1004,
  unknownStaff: 1005,
  unknownDepartmentOrGroup: 1006,
} as const;

/** The v1 `ReturnCode`s the emulator answers (documented in the README). */
export const YOUMI_V1_RETURN_CODE = {
  ok: 200,
  missingParameter: 200001,
  unknownAppId: 200002,
  badSignature: 200003,
  badToken: 200004,
  timestampExpired: 200005,
  badParameter: 200006,
  notFound: 200404,
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
  if (!issue) return 'body: invalid';
  const field = issue.path.map(String).join('.') || 'body';
  const message = /received undefined/.test(issue.message) ? 'is required' : issue.message;
  return `${field}: ${message}`;
}

/** Validates a request body; throws an errmsg-400 {@link EnvelopeFailure} naming the bad field. */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw new EnvelopeFailure(YOUMI_ERRMSG.badRequest, describeIssue(result.error.issues));
  return result.data;
}

/** Parses a JSON body; empty or `null` means `{}` (seed 002: the body is `object | null`). */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) ?? {};
  } catch {
    throw new EnvelopeFailure(YOUMI_ERRMSG.badRequest, 'body: must be JSON (Content-Type: application/json)');
  }
}

/** The first value of a header. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A v2 envelope at the emulator time `now`. */
export function youmiEnvelope(
  now: number,
  values: unknown,
  errmsg: number = YOUMI_ERRMSG.ok,
  errdesc: string | null = null,
): YoumiEnvelope {
  return {
    requestId: null,
    errmsg,
    succeed: errmsg === YOUMI_ERRMSG.ok,
    msgTime: formatYoumiTime(now),
    values,
    errdesc,
  };
}

/** A v1 answer (always HTTP 200). */
export function v1Response(
  data: unknown,
  code: number = YOUMI_V1_RETURN_CODE.ok,
  message = 'success',
): EmulatorResponse {
  const body: YoumiV1Envelope = {
    Result: code === YOUMI_V1_RETURN_CODE.ok,
    ReturnCode: code,
    Message: message,
    Data: data,
  };
  return { status: 200, body };
}

/** The errdesc / Message for a refused token. */
export function tokenRejectionText(rejection: TokenRejection): string {
  switch (rejection) {
    case 'missing':
      return 'Authorization: missing bearer token; get one from the token endpoint';
    case 'unknown':
      return 'Authorization: invalid token';
    case 'expired':
      return 'Authorization: token expired; get a new one';
    case 'revoked':
      return 'Authorization: token revoked; get a new one';
  }
}
