import { isKefuError } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import {
  callbackSignature,
  decodeEncodingAesKey,
  encryptedReplyXml,
  encryptMessage,
  readWechatXml,
  WechatCallbackCrypto,
  type WechatCallbackCryptoOptions,
} from '../src/index.js';
import { officialJsonInbound, officialUrlCheck } from './support/vectors.js';

const APP_ID = 'wx0123456789abcdef';
const OLD_KEY = 'oldKeyoldKeyoldKeyoldKeyoldKeyoldKeyoldKey0';
const NEW_KEY = 'newKeynewKeynewKeynewKeynewKeynewKeynewKey0';
const zeros = (size: number) => new Uint8Array(size);

/** What WeChat would post: the message encrypted with `key` and signed with `token`. */
function pushFromWechat(message: string, options: { token: string; key: string; receiveId?: string }) {
  const encrypt = encryptMessage(decodeEncodingAesKey(options.key), message, options.receiveId ?? APP_ID, zeros);
  const timestamp = '1714112445';
  const nonce = '415670741';
  return { encrypt, timestamp, nonce, msgSignature: callbackSignature([options.token, timestamp, nonce, encrypt]) };
}

function caught(action: () => unknown): Error & { code?: string; details?: Record<string, unknown> } {
  try {
    action();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('key and token rotation (keep the current and the previous EncodingAESKey / token)', () => {
  const rotating: WechatCallbackCryptoOptions = {
    receiveId: APP_ID,
    token: 'newToken',
    encodingAesKey: NEW_KEY,
    previousToken: 'oldToken',
    previousEncodingAesKey: OLD_KEY,
  };

  it('given a push under the new key and token, when decrypted, then the current credentials opened it', () => {
    const crypto = new WechatCallbackCrypto(rotating);
    const push = pushFromWechat('<xml/>', { token: 'newToken', key: NEW_KEY });
    expect(crypto.decrypt(push)).toMatchObject({ message: '<xml/>', token: 'current', key: 'current' });
  });

  it('given a push WeChat still encrypts with the old key, when decrypted, then the previous key opens it and the reply is encrypted with it too', () => {
    const crypto = new WechatCallbackCrypto(rotating);
    const push = pushFromWechat('<xml>旧</xml>', { token: 'oldToken', key: OLD_KEY });
    const opened = crypto.decrypt(push);
    expect(opened).toMatchObject({ message: '<xml>旧</xml>', token: 'previous', key: 'previous' });

    const reply = crypto.encryptReply('<xml>reply</xml>', {
      nonce: push.nonce,
      timestamp: '1714112446',
      inReplyTo: opened,
    });
    // WeChat, still on the old credentials, can open and verify it.
    const wechatSide = new WechatCallbackCrypto({ receiveId: APP_ID, token: 'oldToken', encodingAesKey: OLD_KEY });
    expect(
      wechatSide.decrypt({
        msgSignature: reply.msgSignature,
        timestamp: reply.timeStamp,
        nonce: reply.nonce,
        encrypt: reply.encrypt,
      }).message,
    ).toBe('<xml>reply</xml>');
  });

  it('given the token rotated but not the key, when a push signed with the old token arrives, then it is accepted (they rotate independently)', () => {
    const crypto = new WechatCallbackCrypto(rotating);
    const push = pushFromWechat('<xml/>', { token: 'oldToken', key: NEW_KEY });
    expect(crypto.decrypt(push)).toMatchObject({ token: 'previous', key: 'current' });
  });

  it('given a key that is neither, when decrypted, then the current key’s error is thrown, saying the previous failed too', () => {
    const crypto = new WechatCallbackCrypto(rotating);
    const push = pushFromWechat('<xml/>', { token: 'newToken', key: 'othKeyothKeyothKeyothKeyothKeyothKeyothKey0' });
    const error = caught(() => crypto.decrypt(push));
    expect(error.code).toMatch(/^WECHAT_CRYPTO_BAD_(PADDING|CIPHERTEXT|RECEIVE_ID)$/);
    expect(error.message).toContain('the previous EncodingAESKey failed too');
  });

  it('given no previous token, when the signature is wrong, then WECHAT_CRYPTO_BAD_SIGNATURE and nothing is decrypted', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: 'newToken', encodingAesKey: NEW_KEY });
    const push = pushFromWechat('<xml/>', { token: 'oldToken', key: NEW_KEY });
    expect(caught(() => crypto.decrypt(push)).code).toBe('WECHAT_CRYPTO_BAD_SIGNATURE');
  });
});

describe('the receiveId (appid / corpid) is checked after decryption', () => {
  it('given a push encrypted for another appid with our key and token, when decrypted, then WECHAT_CRYPTO_BAD_RECEIVE_ID', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: 't0ken', encodingAesKey: NEW_KEY });
    const push = pushFromWechat('<xml/>', { token: 't0ken', key: NEW_KEY, receiveId: 'wxSomeoneElse' });
    const error = caught(() => crypto.decrypt(push));
    expect(error.code).toBe('WECHAT_CRYPTO_BAD_RECEIVE_ID');
    expect(error.message).not.toContain('wxSomeoneElse');
  });
});

describe('URL verification', () => {
  it('given an Official Account GET with a wrong signature, when answered, then WECHAT_CRYPTO_BAD_SIGNATURE instead of the echostr', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: officialUrlCheck.token });
    expect(caught(() => crypto.verifyOfficialAccountUrl({ ...officialUrlCheck, signature: '0'.repeat(40) })).code).toBe(
      'WECHAT_CRYPTO_BAD_SIGNATURE',
    );
    expect(caught(() => crypto.verifyOfficialAccountUrl({ ...officialUrlCheck, signature: undefined })).code).toBe(
      'WECHAT_CRYPTO_MISSING_PARAMETER',
    );
  });

  it('given the lenient Official Account GET with msg_signature and an encrypted echostr, when answered, then the decrypted echostr', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: 'tok3n', encodingAesKey: NEW_KEY });
    const signed = pushFromWechat('9283749283', { token: 'tok3n', key: NEW_KEY });
    const query = { msgSignature: signed.msgSignature, timestamp: signed.timestamp, nonce: signed.nonce };
    expect(crypto.verifyOfficialAccountUrl({ ...query, signature: 'ignored', echostr: signed.encrypt })).toBe(
      '9283749283',
    );
  });

  it('given a WeCom GET whose echostr was encrypted for another corp, when answered, then WECHAT_CRYPTO_BAD_RECEIVE_ID', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: 'ww-our-corp', token: 'tok3n', encodingAesKey: NEW_KEY });
    const signed = pushFromWechat('123', { token: 'tok3n', key: NEW_KEY, receiveId: 'ww-other-corp' });
    expect(caught(() => crypto.verifyWecomUrl({ ...signed, echostr: signed.encrypt })).code).toBe(
      'WECHAT_CRYPTO_BAD_RECEIVE_ID',
    );
  });
});

describe('timestamp freshness (optional: WeChat documents no window)', () => {
  const signedAt = Number(officialJsonInbound.timestamp) * 1000;
  const base = {
    receiveId: officialJsonInbound.appId,
    token: officialJsonInbound.token,
    encodingAesKey: officialJsonInbound.encodingAesKey,
  };
  const push = {
    msgSignature: officialJsonInbound.msgSignature,
    timestamp: officialJsonInbound.timestamp,
    nonce: officialJsonInbound.nonce,
    encrypt: officialJsonInbound.encrypt,
  };

  it('given no window, when a push from 2024 is decrypted today, then it is accepted', () => {
    expect(new WechatCallbackCrypto(base).decrypt(push).message).toBe(officialJsonInbound.message);
  });

  it('given a 300 s window, when the clock is 299 s after the timestamp, then accepted; 301 s after, WECHAT_CRYPTO_STALE_TIMESTAMP', () => {
    const at = (offsetSeconds: number) =>
      new WechatCallbackCrypto({ ...base, timestampWindowSeconds: 300, now: () => signedAt + offsetSeconds * 1000 });
    expect(at(299).decrypt(push).message).toBe(officialJsonInbound.message);
    expect(at(-299).decrypt(push).message).toBe(officialJsonInbound.message);
    expect(caught(() => at(301).decrypt(push)).code).toBe('WECHAT_CRYPTO_STALE_TIMESTAMP');
    expect(caught(() => at(-301).decrypt(push)).code).toBe('WECHAT_CRYPTO_STALE_TIMESTAMP');
  });

  it('given a window, when the timestamp is not unix seconds (but signed), then WECHAT_CRYPTO_STALE_TIMESTAMP', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: 'tok3n', timestampWindowSeconds: 60 });
    const timestamp = 'yesterday';
    const signature = callbackSignature(['tok3n', timestamp, '1']);
    expect(caught(() => crypto.verifySignature({ signature, timestamp, nonce: '1' })).code).toBe(
      'WECHAT_CRYPTO_STALE_TIMESTAMP',
    );
  });
});

describe('bad input and configuration', () => {
  it.each([
    ['msgSignature', 'msg_signature'],
    ['timestamp', 'timestamp'],
    ['nonce', 'nonce'],
    ['encrypt', 'Encrypt'],
  ] as const)(
    'given a push without %s, when decrypted, then WECHAT_CRYPTO_MISSING_PARAMETER names %s',
    (field, name) => {
      const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: 'tok3n', encodingAesKey: NEW_KEY });
      const push = { ...pushFromWechat('<xml/>', { token: 'tok3n', key: NEW_KEY }), [field]: '' };
      const error = caught(() => crypto.decrypt(push));
      expect(error.code).toBe('WECHAT_CRYPTO_MISSING_PARAMETER');
      expect(error.message).toContain(name);
    },
  );

  it('given an encrypted body without <Encrypt>, when decrypted, then WECHAT_CRYPTO_MISSING_PARAMETER', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: 'tok3n', encodingAesKey: NEW_KEY });
    expect(
      caught(() =>
        crypto.decryptXml('<xml><ToUserName>gh</ToUserName></xml>', { msgSignature: 'x', timestamp: '1', nonce: '1' }),
      ).code,
    ).toBe('WECHAT_CRYPTO_MISSING_PARAMETER');
  });

  it('given no EncodingAESKey (plaintext mode only), when an encrypted push arrives, then WECHAT_CRYPTO_BAD_KEY says to configure one', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: 'tok3n' });
    expect(crypto.canDecrypt).toBe(false);
    const error = caught(() => crypto.decrypt(pushFromWechat('<xml/>', { token: 'tok3n', key: NEW_KEY })));
    expect(error.code).toBe('WECHAT_CRYPTO_BAD_KEY');
    expect(error.message).toContain('EncodingAESKey');
  });

  it.each([
    ['an empty receiveId', { receiveId: '', token: 't' }],
    ['an empty token', { receiveId: APP_ID, token: '' }],
    ['a zero window', { receiveId: APP_ID, token: 't', timestampWindowSeconds: 0 }],
    ['a NaN window', { receiveId: APP_ID, token: 't', timestampWindowSeconds: Number.NaN }],
  ])('given %s, when constructed, then WECHAT_CRYPTO_CONFIG_INVALID', (_case, options) => {
    expect(caught(() => new WechatCallbackCrypto(options)).code).toBe('WECHAT_CRYPTO_CONFIG_INVALID');
  });

  it('given a bad previousEncodingAesKey, when constructed, then WECHAT_CRYPTO_BAD_KEY names that setting, not the key', () => {
    const error = caught(
      () => new WechatCallbackCrypto({ receiveId: APP_ID, token: 't', previousEncodingAesKey: 'short-key' }),
    );
    expect(error.code).toBe('WECHAT_CRYPTO_BAD_KEY');
    expect(error.message).toContain('previousEncodingAesKey');
    expect(error.message).not.toContain('short-key');
  });

  it('given any failure, then the error is a KefuError whose message and details hold neither the token, the key nor the plaintext', () => {
    const token = 'sup3rSecretToken';
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token, encodingAesKey: NEW_KEY });
    const secretText = 'the customer wrote this private sentence';
    const good = pushFromWechat(secretText, { token, key: NEW_KEY });
    const wrongAppId = pushFromWechat(secretText, { token, key: NEW_KEY, receiveId: 'wxOther' });
    const failures = [
      caught(() => crypto.decrypt({ ...good, msgSignature: '0'.repeat(40) })),
      caught(() => crypto.decrypt(wrongAppId)),
      caught(() => new WechatCallbackCrypto({ receiveId: APP_ID, token, encodingAesKey: `${NEW_KEY}xyz` })),
    ];
    for (const error of failures) {
      expect(isKefuError(error)).toBe(true);
      const visible = JSON.stringify({ message: error.message, details: (error as { details?: unknown }).details });
      for (const secret of [token, NEW_KEY, secretText]) expect(visible).not.toContain(secret);
    }
  });
});

describe('the encrypted reply', () => {
  it('given no timestamp, when a reply is encrypted, then it carries the clock’s unix seconds and verifies like a push', () => {
    const crypto = new WechatCallbackCrypto({
      receiveId: APP_ID,
      token: 'tok3n',
      encodingAesKey: NEW_KEY,
      now: () => 1_714_112_445_987,
    });
    const reply = crypto.encryptReply('<xml>你好 👋</xml>', { nonce: '415670741' });
    expect(reply.timeStamp).toBe('1714112445');
    expect(
      crypto.decrypt({
        msgSignature: reply.msgSignature,
        timestamp: reply.timeStamp,
        nonce: reply.nonce,
        encrypt: reply.encrypt,
      }).message,
    ).toBe('<xml>你好 👋</xml>');
  });

  it('given a nonce holding "]]>", when the reply XML is built, then it still reads back to the same nonce', () => {
    const reply = { encrypt: 'abc=', msgSignature: 'f'.repeat(40), timeStamp: '1', nonce: 'a]]>b<c' };
    expect(readWechatXml(encryptedReplyXml(reply))).toEqual({
      Encrypt: 'abc=',
      MsgSignature: 'f'.repeat(40),
      TimeStamp: '1',
      Nonce: 'a]]>b<c',
    });
  });

  it('given no EncodingAESKey, when a reply is encrypted, then WECHAT_CRYPTO_BAD_KEY', () => {
    const crypto = new WechatCallbackCrypto({ receiveId: APP_ID, token: 'tok3n' });
    expect(caught(() => crypto.encryptReply('<xml/>', { nonce: '1' })).code).toBe('WECHAT_CRYPTO_BAD_KEY');
  });
});
