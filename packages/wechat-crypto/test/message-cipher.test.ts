import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  callbackSignature,
  decodeEncodingAesKey,
  decryptMessage,
  encryptMessage,
  pkcs7Pad,
  pkcs7Unpad,
  WechatCallbackCrypto,
} from '../src/index.js';
import { OFFICIAL_KEY } from './support/vectors.js';

const key = decodeEncodingAesKey(OFFICIAL_KEY);
const zeros = (size: number) => new Uint8Array(size);

/** A 43-character EncodingAESKey from 32 bytes, as the admin console makes them. */
const encodingAesKeyOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64').slice(0, 43);

/** AES-256-CBC of already padded bytes with the scheme's IV: crafts ciphertexts with chosen padding. */
function rawEncrypt(plaintext: Buffer): string {
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}

describe('the EncodingAESKey', () => {
  it('given a real key whose 43rd character carries unused bits, when decoded, then it is accepted leniently (…BS= and …BQ= are one key)', () => {
    const base = encodingAesKeyOf(Buffer.alloc(32, 7));
    const sibling = `${base.slice(0, 42)}${String.fromCharCode(base.charCodeAt(42) + 1)}`;
    expect(decodeEncodingAesKey(sibling)).toEqual(decodeEncodingAesKey(base));
  });

  it.each([
    ['too short', 'abcde'],
    ['too long', `${OFFICIAL_KEY}AAAA`],
    ['not base64', `${OFFICIAL_KEY.slice(0, 42)}-`],
    ['empty', ''],
  ])(
    'given a key that is %s, when decoded, then WECHAT_CRYPTO_BAD_KEY says the length and never echoes the key',
    (_case, bad) => {
      let error: unknown;
      try {
        decodeEncodingAesKey(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'WECHAT_CRYPTO_BAD_KEY' });
      expect((error as Error).message).toMatch(/decodes to \d+ bytes/);
      if (bad.length >= 4) expect((error as Error).message).not.toContain(bad);
    },
  );
});

describe('32-byte PKCS#7', () => {
  it.each([
    [0, 32],
    [1, 31],
    [31, 1],
    [32, 32],
    [205, 19],
  ])('given %i bytes, when padded, then %i bytes of that value are appended', (length, pad) => {
    const padded = pkcs7Pad(Buffer.alloc(length, 0x61));
    expect(padded).toHaveLength(length + pad);
    expect([...padded.subarray(length)]).toEqual(Array(pad).fill(pad));
    expect(pkcs7Unpad(padded)).toEqual(Buffer.alloc(length, 0x61));
  });

  it.each([
    ['a zero pad byte', 0],
    ['a pad byte above 32', 33],
    ['a pad byte of 255', 255],
  ])('given a block ending in %s, when unpadded, then WECHAT_CRYPTO_BAD_PADDING', (_case, last) => {
    const block = Buffer.alloc(32, 1);
    block[31] = last;
    expect(() => pkcs7Unpad(block)).toThrow(expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_PADDING' }));
  });

  it('given pad bytes that disagree, when unpadded, then WECHAT_CRYPTO_BAD_PADDING', () => {
    const block = Buffer.alloc(32, 4);
    block[29] = 5;
    expect(() => pkcs7Unpad(block)).toThrow(expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_PADDING' }));
  });

  it('given a ciphertext whose plaintext ends in pad 33, when decrypted, then WECHAT_CRYPTO_BAD_PADDING (not a silently shortened message)', () => {
    const plaintext = Buffer.alloc(64, 33);
    expect(() => decryptMessage(key, rawEncrypt(plaintext))).toThrow(
      expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_PADDING' }),
    );
  });
});

describe('ciphertexts that are not WXBizMsgCrypt', () => {
  it.each([
    ['not base64', '!!!!'],
    ['base64 of 15 bytes', Buffer.alloc(15).toString('base64')],
    ['one AES block, not a 32-byte PKCS#7 unit', Buffer.alloc(16).toString('base64')],
  ])('given %s, when decrypted, then a typed error', (_case, encrypt) => {
    expect(() => decryptMessage(key, encrypt)).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^WECHAT_CRYPTO_BAD_(CIPHERTEXT|PADDING)$/) }),
    );
  });

  it('given a length field pointing past the end, when decrypted, then WECHAT_CRYPTO_BAD_CIPHERTEXT', () => {
    const plaintext = Buffer.alloc(32 - 1, 0);
    plaintext.writeUInt32BE(1000, 16);
    expect(() => decryptMessage(key, rawEncrypt(Buffer.concat([plaintext, Buffer.from([1])])))).toThrow(
      expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_CIPHERTEXT' }),
    );
  });

  it('given a message that is not UTF-8, when decrypted, then WECHAT_CRYPTO_BAD_CIPHERTEXT', () => {
    const header = Buffer.alloc(20);
    header.writeUInt32BE(2, 16);
    const plaintext = pkcs7Pad(Buffer.concat([header, Buffer.from([0xff, 0xfe]), Buffer.from('wx1')]));
    expect(() => decryptMessage(key, rawEncrypt(plaintext))).toThrow(
      expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_CIPHERTEXT' }),
    );
  });
});

describe('the random source', () => {
  it('given a random source that gives 15 bytes, when a message is encrypted, then WECHAT_CRYPTO_CONFIG_INVALID', () => {
    expect(() => encryptMessage(key, 'x', 'wx1', () => zeros(15))).toThrow(
      expect.objectContaining({ code: 'WECHAT_CRYPTO_CONFIG_INVALID' }),
    );
  });
});

describe('round trips', () => {
  it('given Chinese text and emoji, when encrypted and decrypted, then the message comes back exactly, its length counted in bytes', () => {
    const message = '<xml><Content><![CDATA[你好，客服 👋🏽 — 𠮷野家 ✔︎]]></Content></xml>';
    const encrypt = encryptMessage(key, message, 'wx商户', zeros);
    const plaintext = decryptMessage(key, encrypt);
    expect(plaintext).toMatchObject({ message, receiveId: 'wx商户' });
    const fullLength = 20 + Buffer.byteLength(message) + Buffer.byteLength('wx商户');
    expect(Buffer.from(encrypt, 'base64')).toHaveLength(Math.ceil((fullLength + 1) / 32) * 32);
  });

  it('property: any message and receiveId encrypt and decrypt back to themselves, under any key and prefix', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (message, receiveId, keyBytes, prefix) => {
          const anyKey = decodeEncodingAesKey(encodingAesKeyOf(keyBytes));
          const encrypt = encryptMessage(anyKey, message, receiveId, () => prefix);
          expect(Buffer.from(encrypt, 'base64').length % 32).toBe(0);
          const payload = decryptMessage(anyKey, encrypt);
          expect(payload.message).toBe(message);
          expect(payload.receiveId).toBe(receiveId);
          expect([...payload.randomPrefix]).toEqual([...prefix]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: a signed push with any single ciphertext byte changed, or any signature character changed, is refused', () => {
    const token = 'roundTripToken';
    const crypto = new WechatCallbackCrypto({ receiveId: 'wxappid', token, encodingAesKey: OFFICIAL_KEY });
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.nat(),
        (message, bytePick, xor, signaturePick) => {
          const encrypt = encryptMessage(key, message, 'wxappid', zeros);
          const query = { timestamp: '1714112445', nonce: '415670741' };
          const msgSignature = callbackSignature([token, query.timestamp, query.nonce, encrypt]);
          expect(crypto.decrypt({ ...query, msgSignature, encrypt }).message).toBe(message);

          const bytes = Buffer.from(encrypt, 'base64');
          bytes[bytePick % bytes.length] = (bytes[bytePick % bytes.length] as number) ^ xor;
          expect(() => crypto.decrypt({ ...query, msgSignature, encrypt: bytes.toString('base64') })).toThrow(
            expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_SIGNATURE' }),
          );

          const position = signaturePick % msgSignature.length;
          const replaced = msgSignature[position] === '0' ? '1' : '0';
          const forged = `${msgSignature.slice(0, position)}${replaced}${msgSignature.slice(position + 1)}`;
          expect(() => crypto.decrypt({ ...query, msgSignature: forged, encrypt })).toThrow(
            expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_SIGNATURE' }),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
