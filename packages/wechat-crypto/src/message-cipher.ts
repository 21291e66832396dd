import { createCipheriv, createDecipheriv } from 'node:crypto';
import { wechatCryptoError } from './errors.js';

/**
 * WXBizMsgCrypt's cipher, byte for byte (wechat-push.md §2): AES-256-CBC with the key's
 * first 16 bytes as IV, library padding off and PKCS#7 to a 32-byte block instead, over
 * `random(16) ‖ uint32 BE length ‖ message ‖ receiveId`. Node's default 16-byte padding
 * throws `bad decrypt` on about half of the real messages (any pad above 16).
 */

/** The block PKCS#7 pads to: the key size, 32 bytes ("K 为秘钥字节数（采用 32）"). */
export const PKCS7_BLOCK_SIZE = 32;
/** Bytes of randomness before the length field. */
export const RANDOM_PREFIX_SIZE = 16;
const LENGTH_FIELD_SIZE = 4;
const AES_BLOCK_SIZE = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A source of random bytes (Node's `randomBytes` by default; tests inject the documented prefixes). */
export type RandomBytes = (size: number) => Uint8Array;

/**
 * The AES key of an EncodingAESKey: `base64(EncodingAESKey + "=")`, decoded leniently (the
 * 43rd character carries two unused bits that strict decoders reject on real keys) and
 * checked to be 32 bytes. `role` names the setting in the error ("encodingAesKey").
 */
export function decodeEncodingAesKey(encodingAesKey: string, role = 'encodingAesKey'): Buffer {
  const trimmed = encodingAesKey.trim();
  const key = BASE64.test(`${trimmed}=`) ? Buffer.from(`${trimmed}=`, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) {
    throw wechatCryptoError(
      'WECHAT_CRYPTO_BAD_KEY',
      `${role} is not an EncodingAESKey: it has ${trimmed.length} characters and decodes to ${key.length} bytes; it must be the 43 letters and digits from the admin console, which decode to 32 bytes`,
      { details: { setting: role, characters: trimmed.length, decodedBytes: key.length } },
    );
  }
  return key;
}

/** Pads to a multiple of 32 bytes with PKCS#7 (1..32 bytes, each the pad length; a whole block when already aligned). */
export function pkcs7Pad(data: Buffer): Buffer {
  const pad = PKCS7_BLOCK_SIZE - (data.length % PKCS7_BLOCK_SIZE);
  return Buffer.concat([data, Buffer.alloc(pad, pad)]);
}

/** Removes 32-byte PKCS#7 padding; a pad byte outside 1..32, or pad bytes that differ, is refused. */
export function pkcs7Unpad(data: Buffer): Buffer {
  const pad = data.length === 0 ? 0 : (data[data.length - 1] as number);
  const badPadding = (reason: string) =>
    wechatCryptoError('WECHAT_CRYPTO_BAD_PADDING', `the decrypted message has bad PKCS#7 padding: ${reason}`, {
      details: { decryptedBytes: data.length },
    });
  if (data.length === 0 || data.length % PKCS7_BLOCK_SIZE !== 0) {
    throw badPadding(`${data.length} bytes is not a multiple of ${PKCS7_BLOCK_SIZE}`);
  }
  if (pad < 1 || pad > PKCS7_BLOCK_SIZE) throw badPadding(`the pad byte is ${pad}, not 1..${PKCS7_BLOCK_SIZE}`);
  for (let index = data.length - pad; index < data.length; index += 1) {
    if (data[index] !== pad) throw badPadding(`the last ${pad} bytes are not all ${pad}`);
  }
  return data.subarray(0, data.length - pad);
}

/**
 * Encrypts `message` for `receiveId` (the Official Account's appid or the WeCom corpid):
 * the `Encrypt` value, base64. `random` must give 16 bytes; pass the documented prefix to
 * reproduce an official ciphertext.
 */
export function encryptMessage(key: Buffer, message: string, receiveId: string, random: RandomBytes): string {
  const prefix = Buffer.from(random(RANDOM_PREFIX_SIZE));
  if (prefix.length !== RANDOM_PREFIX_SIZE) {
    throw wechatCryptoError(
      'WECHAT_CRYPTO_CONFIG_INVALID',
      `the random source gave ${prefix.length} bytes, not ${RANDOM_PREFIX_SIZE}: randomBytes(size) must return size bytes`,
    );
  }
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(LENGTH_FIELD_SIZE);
  length.writeUInt32BE(body.length);
  const plaintext = pkcs7Pad(Buffer.concat([prefix, length, body, Buffer.from(receiveId, 'utf8')]));
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, AES_BLOCK_SIZE));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}

/** A decrypted `Encrypt` value: the message, the receiver it names, and the random prefix. */
export interface DecryptedPayload {
  /** The message (UTF-8): the push XML, the echostr, a JSON body. */
  readonly message: string;
  /** The appid / corpid the message was encrypted for. */
  readonly receiveId: string;
  /** The 16 random bytes before the length field. */
  readonly randomPrefix: Buffer;
}

/**
 * Decrypts an `Encrypt` value. Checks, in order: base64 of whole AES blocks, 32-byte PKCS#7
 * padding, a length field inside the message, UTF-8 text. The receiveId is returned, not
 * checked: {@link WechatMessageCrypto} compares it with the configured one.
 */
export function decryptMessage(key: Buffer, encrypt: string): DecryptedPayload {
  const badCiphertext = (reason: string, details: Record<string, unknown> = {}) =>
    wechatCryptoError(
      'WECHAT_CRYPTO_BAD_CIPHERTEXT',
      `the Encrypt value is not a WXBizMsgCrypt ciphertext: ${reason}`,
      {
        details: { encryptChars: encrypt.length, ...details },
      },
    );
  if (encrypt.length % 4 !== 0 || !BASE64.test(encrypt)) throw badCiphertext('it is not base64');
  const ciphertext = Buffer.from(encrypt, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK_SIZE !== 0) {
    throw badCiphertext(`${ciphertext.length} bytes is not a whole number of AES blocks`, {
      ciphertextBytes: ciphertext.length,
    });
  }
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, AES_BLOCK_SIZE));
  decipher.setAutoPadding(false);
  const plaintext = pkcs7Unpad(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  const headerSize = RANDOM_PREFIX_SIZE + LENGTH_FIELD_SIZE;
  if (plaintext.length < headerSize) {
    throw badCiphertext(`${plaintext.length} bytes after unpadding is shorter than the 20-byte header`);
  }
  const messageLength = plaintext.readUInt32BE(RANDOM_PREFIX_SIZE);
  if (messageLength > plaintext.length - headerSize) {
    throw badCiphertext(
      `the length field says ${messageLength} bytes but only ${plaintext.length - headerSize} follow`,
      { messageLength },
    );
  }
  const messageEnd = headerSize + messageLength;
  let message: string;
  let receiveId: string;
  try {
    message = strictUtf8.decode(plaintext.subarray(headerSize, messageEnd));
    receiveId = strictUtf8.decode(plaintext.subarray(messageEnd));
  } catch {
    throw badCiphertext('the decrypted message is not UTF-8 text');
  }
  return { message, receiveId, randomPrefix: Buffer.from(plaintext.subarray(0, RANDOM_PREFIX_SIZE)) };
}
