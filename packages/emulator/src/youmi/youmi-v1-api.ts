import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import { type AccessTokenStore, signaturesMatch, V1_TIMESTAMP_WINDOW_SECONDS, youmiV1Signature } from './youmi-auth.js';
import {
  EnvelopeFailure,
  headerValue,
  parseJsonBody,
  tokenRejectionText,
  v1Response,
  YOUMI_ERRMSG,
  YOUMI_V1_RETURN_CODE,
} from './youmi-envelope.js';

/**
 * The older v1 API: every call is signed with HMAC-SHA1 (API-NOTES "Youmi open API").
 * The token call sends `AppId, Nonce, Timestamp, Signature` over appId + Nonce +
 * Timestamp; data calls send `access_token, Nonce, Timestamp, Signature` over
 * access_token + Nonce + Timestamp. Timestamps further than 10 minutes from the
 * server clock are refused (200005).
 */

/** The v1 token call. */
export const YOUMI_V1_TOKEN_PATH = '/v1/Token/GetToken';

/** What the v1 API needs from the platform. */
export interface V1ApiContext {
  appId: string;
  appKey: string;
  tokenLifetimeSeconds: number;
  tokens: AccessTokenStore;
  now(): number;
  /** Data calls by lower-case path; they return `Data` or throw {@link EnvelopeFailure}. */
  routes: ReadonlyMap<string, (body: unknown) => unknown>;
  /** The `revokeTokenEveryCalls` fault: true when this call revokes the token. */
  revokesNow(path: string): boolean;
}

/** Answers a v1 request; `path` is the lower-case path. */
export function answerV1Request(path: string, request: EmulatorRequest, context: V1ApiContext): EmulatorResponse {
  const header = (name: string) => headerValue(request.headers[name.toLowerCase()]);
  if (request.method !== 'POST') return v1Response(null, YOUMI_V1_RETURN_CODE.notFound, 'use POST');
  const isTokenCall = path === YOUMI_V1_TOKEN_PATH.toLowerCase();
  const handler = context.routes.get(path);
  if (!isTokenCall && !handler) return v1Response(null, YOUMI_V1_RETURN_CODE.notFound, `no such API: ${path}`);
  const nonce = header('Nonce');
  const timestamp = header('Timestamp');
  const signature = header('Signature');
  const principal = isTokenCall ? header('AppId') : header('access_token');
  if (!nonce || !timestamp || !signature || !principal) {
    const names = isTokenCall ? 'AppId, Nonce, Timestamp, Signature' : 'access_token, Nonce, Timestamp, Signature';
    return v1Response(null, YOUMI_V1_RETURN_CODE.missingParameter, `headers ${names} are required`);
  }
  if (!/^\d{1,11}$/.test(timestamp)) {
    return v1Response(null, YOUMI_V1_RETURN_CODE.missingParameter, 'Timestamp: must be Unix seconds');
  }
  // Replay protection: the request must be signed within 10 minutes of the server clock.
  if (Math.abs(Math.floor(context.now() / 1000) - Number(timestamp)) > V1_TIMESTAMP_WINDOW_SECONDS) {
    return v1Response(null, YOUMI_V1_RETURN_CODE.timestampExpired, 'Timestamp: request expired (10-minute window)');
  }
  if (isTokenCall && principal !== context.appId) {
    return v1Response(null, YOUMI_V1_RETURN_CODE.unknownAppId, 'AppId: unknown application');
  }
  const expected = youmiV1Signature(context.appKey, `${principal}${nonce}${timestamp}`);
  if (!signaturesMatch(expected, signature)) {
    return v1Response(null, YOUMI_V1_RETURN_CODE.badSignature, 'Signature: does not match');
  }
  if (isTokenCall) {
    const lifetime = context.tokenLifetimeSeconds;
    return v1Response({ access_token: context.tokens.issue(lifetime), expires_in: lifetime });
  }
  const rejection = context.tokens.check(principal);
  if (rejection) return v1Response(null, YOUMI_V1_RETURN_CODE.badToken, tokenRejectionText(rejection));
  if (context.revokesNow(request.url.pathname)) {
    context.tokens.revoke(principal);
    return { ...v1Response(null, YOUMI_V1_RETURN_CODE.badToken, tokenRejectionText('revoked')), fault: 'revoked' };
  }
  try {
    return v1Response((handler as (body: unknown) => unknown)(parseJsonBody(request.body)));
  } catch (error) {
    if (error instanceof EnvelopeFailure) {
      const code = error.errmsg === YOUMI_ERRMSG.badRequest ? YOUMI_V1_RETURN_CODE.badParameter : error.errmsg;
      return v1Response(null, code, error.errdesc);
    }
    throw error;
  }
}
