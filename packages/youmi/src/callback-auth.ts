import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { YoumiCallbacksConfig } from './callbacks-config.js';

/**
 * The one check of a Youmi callback's authentication, shared by {@link YoumiPushReceiver}
 * (`kefu serve`) and the library {@link YoumiCallbackReceiver}: Youmi signs nothing, so a
 * callback must carry the receiver's own `pathSecret` and/or a gateway's HMAC signature.
 */

/** The header names of the HMAC scheme. */
export const YOUMI_SIGNATURE_HEADER = 'x-kefu-signature';
export const YOUMI_TIMESTAMP_HEADER = 'x-kefu-timestamp';

/** The `X-Kefu-Signature` value of a body (what a signing gateway sends). */
export function youmiCallbackSignature(hmacSecret: string, timestamp: string, body: Buffer | string): string {
  const mac = createHmac('sha256', hmacSecret);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/** What a callback is authenticated on. */
export interface YoumiCallbackCredentials {
  /** The path after the receiver's prefix: `/{pathSecret}` when a path secret is set, else empty. */
  subpath: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: Buffer;
}

/** Why a callback was refused: the HTTP status, a short reason (metrics, logs) and a message for the sender. */
export interface YoumiCallbackRefusal {
  status: 401 | 403 | 404;
  reason: 'bad_path_secret' | 'unknown_path' | 'unsigned' | 'stale_timestamp' | 'bad_signature';
  message: string;
}

function equalText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The refusal of an unauthenticated callback, or undefined when it may pass (constant-time comparisons). */
export function authenticateYoumiCallback(
  config: YoumiCallbacksConfig,
  request: YoumiCallbackCredentials,
  nowMs: number,
): YoumiCallbackRefusal | undefined {
  const { pathSecret, hmacSecret } = config;
  if (pathSecret !== undefined && !equalText(request.subpath, `/${pathSecret}`)) {
    return { status: 403, reason: 'bad_path_secret', message: 'forbidden' };
  }
  if (pathSecret === undefined && request.subpath !== '') {
    return { status: 404, reason: 'unknown_path', message: 'not found' };
  }
  if (hmacSecret === undefined) return undefined;
  const signature = header(request.headers, YOUMI_SIGNATURE_HEADER);
  const timestamp = header(request.headers, YOUMI_TIMESTAMP_HEADER);
  if (!signature || !timestamp) {
    return { status: 401, reason: 'unsigned', message: 'X-Kefu-Signature and X-Kefu-Timestamp are required' };
  }
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > config.timestampWindowSeconds) {
    return { status: 401, reason: 'stale_timestamp', message: 'X-Kefu-Timestamp is outside the accepted window' };
  }
  if (!equalText(signature, youmiCallbackSignature(hmacSecret, timestamp, request.body))) {
    return { status: 401, reason: 'bad_signature', message: 'X-Kefu-Signature does not match the body' };
  }
  return undefined;
}
