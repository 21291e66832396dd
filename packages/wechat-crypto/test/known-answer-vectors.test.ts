import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  callbackSignature,
  decodeEncodingAesKey,
  decryptMessage,
  encryptedReplyXml,
  encryptMessage,
  readWechatXml,
  WechatCallbackCrypto,
} from '../src/index.js';
import {
  easyWechatOfficialAccount,
  nodeWebotSignature,
  officialJsonInbound,
  officialJsonReply,
  officialPlaintextPush,
  officialUrlCheck,
  officialXmlInbound,
  officialXmlReply,
  wechatpyWecom,
  wecomOfficialExample,
  wxJavaEncrypt,
} from './support/vectors.js';

// Every vector's source (URL, or repository, path and commit) is cited in support/vectors.ts.

/** A random source that gives the documented 16-byte prefix. */
const documentedPrefix = (prefix: string) => (size: number) => {
  expect(size).toBe(16);
  return Buffer.from(prefix, 'latin1');
};

describe('the official worked examples (developers.weixin.qq.com message push pages)', () => {
  it('given the GET example, when the URL check is answered, then the signature verifies and echostr comes back unchanged', () => {
    const { token, timestamp, nonce, echostr, signature } = officialUrlCheck;
    expect(callbackSignature([token, timestamp, nonce])).toBe(signature);
    const crypto = new WechatCallbackCrypto({ receiveId: 'wxba5fad812f8e6fb9', token });
    expect(crypto.verifyOfficialAccountUrl({ signature, timestamp, nonce, echostr })).toBe(echostr);
  });

  it('given the plaintext-mode push, when its signature is checked, then it verifies', () => {
    const { token, timestamp, nonce, signature } = officialPlaintextPush;
    const crypto = new WechatCallbackCrypto({ receiveId: 'wxba5fad812f8e6fb9', token });
    expect(crypto.verifySignature({ signature, timestamp, nonce })).toBe('current');
  });

  it.each([
    ['JSON (mini program / Official Account page)', officialJsonInbound],
    ['XML (third-party platform page)', officialXmlInbound],
  ])(
    'given the %s safe-mode push, when it is decrypted, then the message, the layout and both signatures are as published',
    (_name, vector) => {
      const key = decodeEncodingAesKey(vector.encodingAesKey);
      const encrypt = 'encrypt' in vector ? vector.encrypt : (readWechatXml(vector.body).Encrypt as string);
      expect(Buffer.from(encrypt, 'base64')).toHaveLength(vector.ciphertextBytes);
      expect(callbackSignature([vector.token, vector.timestamp, vector.nonce, encrypt])).toBe(vector.msgSignature);
      // The plain `signature` is still sent in safe mode and still verifies (wechat-push.md §1.1).
      expect(callbackSignature([vector.token, vector.timestamp, vector.nonce])).toBe(vector.signature);

      const payload = decryptMessage(key, encrypt);
      expect(payload.message).toBe(vector.message);
      expect(payload.receiveId).toBe(vector.appId);
      expect(payload.randomPrefix.toString('latin1')).toBe(vector.random);

      // The pad the page implies: ciphertext − (16 + 4 + message + appid).
      const fullLength = 20 + Buffer.byteLength(vector.message) + vector.appId.length;
      expect(vector.ciphertextBytes - fullLength).toBe(vector.pad);

      // Re-encrypting with the documented prefix gives the published ciphertext byte for byte.
      expect(encryptMessage(key, vector.message, vector.appId, documentedPrefix(vector.random))).toBe(encrypt);

      const crypto = new WechatCallbackCrypto({
        receiveId: vector.appId,
        token: vector.token,
        encodingAesKey: vector.encodingAesKey,
      });
      const query = { msgSignature: vector.msgSignature, timestamp: vector.timestamp, nonce: vector.nonce };
      const decrypted =
        'body' in vector ? crypto.decryptXml(vector.body, query) : crypto.decrypt({ ...query, encrypt });
      expect(decrypted).toEqual({ message: vector.message, receiveId: vector.appId, token: 'current', key: 'current' });
    },
  );

  it.each([
    ['JSON', officialJsonReply],
    ['XML', officialXmlReply],
  ])(
    'given the %s reply example, when it is encrypted with the documented prefix, then Encrypt and MsgSignature are the published ones',
    (_name, vector) => {
      const crypto = new WechatCallbackCrypto({
        receiveId: vector.appId,
        token: vector.token,
        encodingAesKey: vector.encodingAesKey,
        randomBytes: documentedPrefix(vector.random),
      });
      const reply = crypto.encryptReply(vector.message, { nonce: vector.nonce, timestamp: vector.timestamp });
      expect(reply).toEqual({
        encrypt: vector.encrypt,
        msgSignature: vector.msgSignature,
        timeStamp: vector.timestamp,
        nonce: vector.nonce,
      });
      expect(Buffer.from(reply.encrypt, 'base64')).toHaveLength(vector.ciphertextBytes);
      expect(decryptMessage(decodeEncodingAesKey(vector.encodingAesKey), reply.encrypt).message).toBe(vector.message);
      // The reply envelope reads back to the same four fields.
      expect(readWechatXml(encryptedReplyXml(reply))).toEqual({
        Encrypt: vector.encrypt,
        MsgSignature: vector.msgSignature,
        TimeStamp: vector.timestamp,
        Nonce: vector.nonce,
      });
    },
  );

  it("given the official inbound vector, when Node's default auto-padding is used, then decryption throws: the pitfall the 32-byte padding avoids", () => {
    const key = decodeEncodingAesKey(officialJsonInbound.encodingAesKey);
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    expect(() => Buffer.concat([decipher.update(officialJsonInbound.encrypt, 'base64'), decipher.final()])).toThrow(
      /bad decrypt/,
    );
  });
});

describe('SDK test vectors', () => {
  it.each(wxJavaEncrypt.cases.map((testCase) => [testCase.name, testCase] as const))(
    'WxJava WxCryptUtilTest.%s: the Chinese message encrypts to the published ciphertext and back',
    (_name, testCase) => {
      const key = decodeEncodingAesKey(wxJavaEncrypt.encodingAesKey);
      const encrypt = encryptMessage(
        key,
        testCase.message,
        wxJavaEncrypt.appId,
        documentedPrefix(wxJavaEncrypt.random),
      );
      expect(encrypt).toBe(testCase.encrypt);
      expect(decryptMessage(key, encrypt)).toMatchObject({ message: testCase.message, receiveId: wxJavaEncrypt.appId });
    },
  );

  it('EasyWeChat EncryptorTest test_decrypt: the Official Account push decrypts to its fields', () => {
    const vector = easyWechatOfficialAccount;
    const crypto = new WechatCallbackCrypto({
      receiveId: vector.appId,
      token: vector.token,
      encodingAesKey: vector.encodingAesKey,
    });
    const query = { msgSignature: vector.msgSignature, timestamp: vector.timestamp, nonce: vector.nonce };
    const push = readWechatXml(crypto.decryptXml(vector.body, query).message);
    expect(push).toMatchObject(vector.expected);
  });

  it('EasyWeChat EncryptorTest test_decrypt_with_error_received_id: another appid is refused after decryption', () => {
    const vector = easyWechatOfficialAccount;
    const crypto = new WechatCallbackCrypto({
      receiveId: 'invalid appid',
      token: vector.token,
      encodingAesKey: vector.encodingAesKey,
    });
    const query = { msgSignature: vector.msgSignature, timestamp: vector.timestamp, nonce: vector.nonce };
    expect(() => crypto.decryptXml(vector.body, query)).toThrow(
      expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_RECEIVE_ID' }),
    );
  });

  it('the WeCom official example (EasyWeChat Work ServerTest): the URL check answers the decrypted echostr', () => {
    const vector = wecomOfficialExample;
    const crypto = new WechatCallbackCrypto({
      receiveId: vector.corpId,
      token: vector.token,
      encodingAesKey: vector.encodingAesKey,
    });
    expect(crypto.verifyWecomUrl(vector.urlCheck)).toBe(vector.urlCheck.answer);
  });

  it('the WeCom official example (EasyWeChat DecryptXmlMessageTest): the message decrypts, its MsgId above 2^53 kept exact', () => {
    const vector = wecomOfficialExample;
    const crypto = new WechatCallbackCrypto({
      receiveId: vector.corpId,
      token: vector.token,
      encodingAesKey: vector.encodingAesKey,
    });
    const { body, ...query } = vector.message;
    const message = readWechatXml(crypto.decryptXml(body, query).message);
    expect(message).toEqual(vector.message.expected);
    expect(BigInt(message.MsgId as string)).toBeGreaterThan(2n ** 53n);
  });

  it('wechatpy test_check_signature_should_ok / _should_fail: the WeCom URL check verifies, and a changed nonce does not', () => {
    const vector = wechatpyWecom;
    const crypto = new WechatCallbackCrypto({
      receiveId: vector.corpId,
      token: vector.token,
      encodingAesKey: vector.encodingAesKey,
    });
    const answer = crypto.verifyWecomUrl(vector.urlCheck);
    expect(answer).toMatch(/^\d+$/);
    expect(() => crypto.verifyWecomUrl({ ...vector.urlCheck, nonce: vector.urlCheck.wrongNonce })).toThrow(
      expect.objectContaining({ code: 'WECHAT_CRYPTO_BAD_SIGNATURE' }),
    );
  });

  it('wechatpy test_encrypt_message: the reply with random "1234567890123456" is the published XML, field for field', () => {
    const vector = wechatpyWecom;
    const crypto = new WechatCallbackCrypto({
      receiveId: vector.corpId,
      token: vector.token,
      encodingAesKey: vector.encodingAesKey,
      randomBytes: documentedPrefix(vector.reply.random),
    });
    const reply = crypto.encryptReply(vector.reply.message, {
      nonce: vector.reply.nonce,
      timestamp: vector.reply.timestamp,
    });
    expect(reply).toEqual({
      encrypt: vector.reply.encrypt,
      msgSignature: vector.reply.msgSignature,
      timeStamp: vector.reply.timestamp,
      nonce: vector.reply.nonce,
    });
  });

  it('wechatpy test_decrypt_message: the WeCom message decrypts to Content "test" from "messense"', () => {
    const vector = wechatpyWecom;
    const crypto = new WechatCallbackCrypto({
      receiveId: vector.corpId,
      token: vector.token,
      encodingAesKey: vector.encodingAesKey,
    });
    const { body, expected, ...query } = vector.message;
    expect(readWechatXml(crypto.decryptXml(body, query).message)).toMatchObject(expected);
  });

  it('node-webot/wechat-crypto getSignature: sha1 of the sorted parts, and its EncodingAESKey decodes to 32 bytes', () => {
    const vector = nodeWebotSignature;
    expect(callbackSignature([vector.token, ...vector.parts])).toBe(vector.signature);
    expect(decodeEncodingAesKey(vector.encodingAesKey)).toHaveLength(32);
  });
});
