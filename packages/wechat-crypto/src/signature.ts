import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The callback signatures (wechat-push.md §1–§2): the SHA-1, lowercase hex, of the parts
 * sorted as strings and concatenated. Plain `signature` signs `[token, timestamp, nonce]`;
 * `msg_signature` adds the `Encrypt` value (or the encrypted `echostr`).
 */
export function callbackSignature(parts: readonly string[]): string {
  // Code-unit order, like PHP's sort(SORT_STRING) and Java's Arrays.sort in the official samples.
  const sorted = [...parts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha1').update(sorted.join(''), 'utf8').digest('hex');
}

/**
 * Compares a received signature with the expected one in constant time (`timingSafeEqual`
 * on equal-length buffers; a length mismatch is answered at once, the length being public).
 */
export function signaturesEqual(expected: string, received: string): boolean {
  const expectedBytes = Buffer.from(expected, 'utf8');
  const receivedBytes = Buffer.from(received, 'utf8');
  return expectedBytes.length === receivedBytes.length && timingSafeEqual(expectedBytes, receivedBytes);
}
