import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * WeChat's side of WXBizMsgCrypt, written here from the docs (wechat-push.md §2) rather
 * than taken from @kefu/wechat-crypto, so the emulator does not agree with kefu's receiver
 * by construction: key = base64(EncodingAESKey + "="), IV = key[0..16), AES-256-CBC
 * without library padding, PKCS#7 to 32-byte blocks, plaintext = 16 random bytes ‖
 * uint32 BE length ‖ message ‖ appid; signatures = sha1 of the sorted parts joined.
 */

/** sha1(sort(parts).join('')), lowercase hex. */
export function wechatSignature(parts: readonly string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

/** The base64 `Encrypt` of `message` for `appId`. */
export function wechatEncrypt(encodingAesKey: string, message: string, appId: string): string {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([randomBytes(16), length, body, Buffer.from(appId, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString(
    'base64',
  );
}
