import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import { type AccessTokenStore, V1_TIMESTAMP_WINDOW_SECONDS, v1SignatureMatches } from './youmi-auth.js';
import {
  EnvelopeFailure,
  headerValue,
  parseJsonBody,
  tokenRejectionText,
  YOUMI_ERRMSG,
  youmiEnvelope,
} from './youmi-envelope.js';
import type { ResolvedYoumiReadings } from './youmi-options.js';
import { v1TokenRequestSchema } from './youmi-schemas.js';

/**
 * The older v1 API (platforms/youmi-api.md §1.2, §3). The token call is `POST
 * …/publicapi/v1/GetAccessToken?format=json` with a JSON body `{AppId, Nonce, Timestamp,
 * Signature}` signed over AppId + Nonce + Timestamp; data calls under `/v1/` send the headers
 * `access_token`, `Nonce`, `Timestamp` and `Signature` (over access_token + Nonce +
 * Timestamp). Requests older than 10 minutes get 200005. Answers are the same envelope as
 * v2, success 10004 (token) and 20000 (data). The docs put the token call and the data calls
 * on different ports (5001 / 5003); the emulator serves both on its one port.
 */

/** The v1 token call. */
export const YOUMI_V1_TOKEN_PATH = '/publicapi/v1/GetAccessToken';

/** A v1 data call: its method and what it answers (`values`), or an {@link EnvelopeFailure}. */
export interface V1Route {
  method: 'GET' | 'POST';
  handle(query: URLSearchParams, body: unknown): unknown;
}

/** What the v1 API needs from the platform. */
export interface V1ApiContext {
  appId: string;
  appKey: string;
  tokenLifetimeSeconds: number;
  tokens: AccessTokenStore;
  now(): number;
  readings(): ResolvedYoumiReadings;
  /** The `revokeTokenEveryCalls` fault: true when this call revokes the token. */
  revokesNow(path: string): boolean;
}

/** An envelope answer of the v1 API. */
function v1Answer(
  context: V1ApiContext,
  values: unknown,
  errmsg: number,
  errdesc: string | null = '',
): EmulatorResponse {
  return { status: 200, body: youmiEnvelope(context.now(), context.readings().timeFormat, values, errmsg, errdesc) };
}

/** Answers the v1 token call (`POST …/GetAccessToken`), exempt from faults like every token call. */
export function answerV1Token(request: EmulatorRequest, context: V1ApiContext): EmulatorResponse {
  return answerToken(request, context, (values, errmsg, errdesc) => v1Answer(context, values, errmsg, errdesc));
}

/** Answers a v1 data call: the method, the signed headers, the token, the revocation fault, then the route. */
export function answerV1Call(route: V1Route, request: EmulatorRequest, context: V1ApiContext): EmulatorResponse {
  const answer = (values: unknown, errmsg: number, errdesc: string | null = ''): EmulatorResponse =>
    v1Answer(context, values, errmsg, errdesc);
  // ASP.NET answers a wrong method with a bare status, not an envelope.
  if (request.method !== route.method) return { status: 405, body: Buffer.alloc(0) };
  const header = (name: string) => headerValue(request.headers[name.toLowerCase()]);
  const token = header('access_token');
  const nonce = header('Nonce');
  const timestamp = header('Timestamp');
  const signature = header('Signature');
  if (!token) return answer(null, YOUMI_ERRMSG.accessTokenMissing, 'access_token missing');
  if (!nonce) return answer(null, YOUMI_ERRMSG.nonceMissing, 'Nonce missing');
  if (!timestamp) return answer(null, YOUMI_ERRMSG.timestampMissing, 'Timestamp missing');
  if (!signature) return answer(null, YOUMI_ERRMSG.signatureMissing, 'Signature missing');
  const expired = checkTimestamp(timestamp, context.now());
  if (expired) return answer(null, expired.errmsg, expired.errdesc);
  if (!v1SignatureMatches(context.appKey, `${token}${nonce}${timestamp}`, signature)) {
    return answer(null, YOUMI_ERRMSG.wrongKey, 'Signature: does not match (wrong key?)');
  }
  const rejection = context.tokens.check(token);
  if (rejection) return answer(null, YOUMI_ERRMSG.tokenInvalid, tokenRejectionText(rejection));
  if (context.revokesNow(request.url.pathname)) {
    context.tokens.revoke(token);
    return { ...answer(null, YOUMI_ERRMSG.tokenInvalid, tokenRejectionText('revoked')), fault: 'revoked' };
  }
  try {
    const body = route.method === 'POST' ? parseJsonBody(request.body) : {};
    return answer(route.handle(request.url.searchParams, body), YOUMI_ERRMSG.done);
  } catch (error) {
    if (error instanceof EnvelopeFailure) return answer(null, error.errmsg, error.errdesc);
    throw error;
  }
}

/** 200005 when the signed time is more than 10 minutes from the server clock; undefined when fine. */
function checkTimestamp(timestamp: string, now: number): EnvelopeFailure | undefined {
  if (!/^\d{1,11}$/.test(timestamp)) {
    return new EnvelopeFailure(YOUMI_ERRMSG.timestampMissing, 'Timestamp: must be Unix seconds');
  }
  if (Math.abs(Math.floor(now / 1000) - Number(timestamp)) > V1_TIMESTAMP_WINDOW_SECONDS) {
    return new EnvelopeFailure(YOUMI_ERRMSG.requestExpired, 'Timestamp: request older than 10 minutes');
  }
  return undefined;
}

function answerToken(
  request: EmulatorRequest,
  context: V1ApiContext,
  answer: (values: unknown, errmsg: number, errdesc?: string | null) => EmulatorResponse,
): EmulatorResponse {
  const exempt = (response: EmulatorResponse): EmulatorResponse => ({ ...response, exemptFromFaults: true });
  if (request.method !== 'POST') return exempt({ status: 405, body: Buffer.alloc(0) });
  let body: unknown;
  try {
    body = parseJsonBody(request.body);
  } catch (error) {
    return exempt(answer(null, YOUMI_ERRMSG.badParameters, (error as Error).message));
  }
  const parsed = v1TokenRequestSchema.safeParse(body);
  if (!parsed.success) return exempt(answer(null, YOUMI_ERRMSG.badParameters, 'body: must be a JSON object'));
  const text = (value: string | number | undefined) => (value === undefined ? '' : String(value));
  const appId = text(parsed.data.AppId);
  const nonce = text(parsed.data.Nonce);
  const timestamp = text(parsed.data.Timestamp);
  const signature = text(parsed.data.Signature);
  if (!appId) return exempt(answer(null, YOUMI_ERRMSG.appIdMissing, 'AppId missing'));
  if (!nonce) return exempt(answer(null, YOUMI_ERRMSG.nonceMissing, 'Nonce missing'));
  if (!timestamp) return exempt(answer(null, YOUMI_ERRMSG.timestampMissing, 'Timestamp missing'));
  if (!signature) return exempt(answer(null, YOUMI_ERRMSG.signatureMissing, 'Signature missing'));
  const expired = checkTimestamp(timestamp, context.now());
  if (expired) return exempt(answer(null, expired.errmsg, expired.errdesc));
  if (appId !== context.appId || !v1SignatureMatches(context.appKey, `${appId}${nonce}${timestamp}`, signature)) {
    return exempt(answer(null, YOUMI_ERRMSG.wrongKey, 'AppId or Signature: wrong key'));
  }
  const lifetime = context.tokenLifetimeSeconds;
  // The docs' example: expires_in = msgTime + 7 days as Unix seconds, an absolute expiry.
  const expiresIn = context.readings().v1ExpiresIn === 'epoch' ? Math.floor(context.now() / 1000) + lifetime : lifetime;
  return exempt(
    answer({ access_token: context.tokens.issue(lifetime), expires_in: expiresIn }, YOUMI_ERRMSG.tokenIssued, ''),
  );
}
