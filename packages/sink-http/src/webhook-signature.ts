import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the request's Unix time in seconds, covered by the signature. */
export const TIMESTAMP_HEADER = 'x-kefu-timestamp';
/** Header carrying `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`. */
export const SIGNATURE_HEADER = 'x-kefu-signature';
/** Header carrying the batch's idempotency key (stable across retries and replays). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** What is signed: the timestamp, a dot, and the exact body bytes. */
function signedBytes(timestamp: string, body: string | Uint8Array): Buffer {
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  return Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), bodyBytes]);
}

/** The `X-Kefu-Signature` value for a body sent at `timestamp` (Unix seconds, as a string). */
export function signKefuPayload(input: { secret: string; timestamp: string; body: string | Uint8Array }): string {
  const digest = createHmac('sha256', input.secret).update(signedBytes(input.timestamp, input.body)).digest('hex');
  return `sha256=${digest}`;
}

/** Input of {@link verifyKefuSignature}: the raw header values and the raw body bytes as received. */
export interface VerifyKefuSignatureInput {
  secret: string;
  /** The `X-Kefu-Timestamp` header (a Node header value is accepted as is). */
  timestamp: string | readonly string[] | undefined;
  /** The raw request body (before any JSON parsing). */
  body: string | Uint8Array;
  /** The `X-Kefu-Signature` header (a Node header value is accepted as is). */
  signature: string | readonly string[] | undefined;
  /** Accepted clock difference in seconds, either way (default 300): the replay window. */
  toleranceSeconds?: number;
  /** The receiver's clock in milliseconds (default Date.now()). */
  now?: number;
}

/**
 * Verifies a kefu webhook request on the receiving side: the timestamp lies within the
 * replay window and the signature matches (constant-time comparison).
 *
 * @example
 * ```ts
 * const ok = verifyKefuSignature({
 *   secret: process.env.KEFU_WEBHOOK_SECRET!,
 *   timestamp: req.headers['x-kefu-timestamp'],
 *   signature: req.headers['x-kefu-signature'],
 *   body: rawBody,
 * });
 * if (!ok) return res.writeHead(401).end();
 * ```
 */
export function verifyKefuSignature(input: VerifyKefuSignatureInput): boolean {
  // A repeated header is ambiguous: only a single value is accepted.
  const timestamp = typeof input.timestamp === 'string' ? input.timestamp : undefined;
  const signature = typeof input.signature === 'string' ? input.signature : undefined;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  const nowSeconds = (input.now ?? Date.now()) / 1000;
  if (Math.abs(nowSeconds - Number(timestamp)) > (input.toleranceSeconds ?? 300)) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
  if (!match?.[1]) return false;
  const expected = Buffer.from(signKefuPayload({ secret: input.secret, timestamp, body: input.body }).slice(7), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}
