import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { KefuError } from '@kefu/core/errors';
import { registerSecret } from '@kefu/core/redaction';
import { wechatCryptoError } from './errors.js';
import { decodeEncodingAesKey, decryptMessage, encryptMessage, type RandomBytes } from './message-cipher.js';
import { callbackSignature, signaturesEqual } from './signature.js';
import { readWechatXml } from './xml-reader.js';

/**
 * The callback scheme of WeChat Official Accounts and WeCom (WXBizMsgCrypt,
 * wechat-push.md §1–§2, wecom-kf.md §5): signature checks, URL verification, decryption of
 * pushes and encryption of replies, with key rotation and an optional freshness window.
 */

/** Which of the configured tokens or EncodingAESKeys did the work: the reply uses the same. */
export type CredentialGeneration = 'current' | 'previous';

/** Options of {@link WechatCallbackCrypto}. */
export interface WechatCallbackCryptoOptions {
  /** The receiver encrypted messages must name: the Official Account's AppID, or the WeCom CorpID. */
  receiveId: string;
  /** The Token set in the admin console. */
  token: string;
  /** The 43-character EncodingAESKey; needed for the compatible and safe modes and for WeCom. */
  encodingAesKey?: string;
  /** The token before the last change, accepted while WeChat may still use it. */
  previousToken?: string;
  /** The EncodingAESKey before the last change ("保存当前的和上一次的EncodingAESKey"). */
  previousEncodingAesKey?: string;
  /**
   * Refuse a `timestamp` further than this from the clock, in seconds. WeChat documents no
   * replay window and none of the SDKs checks one, so it is off by default; if you set it,
   * leave room for WeChat's retries (3 tries within about 15 s) and clock skew.
   */
  timestampWindowSeconds?: number;
  /** The clock, in milliseconds (default `Date.now`). */
  now?: () => number;
  /** The random source of reply prefixes (default `crypto.randomBytes`). */
  randomBytes?: RandomBytes;
}

/** The query of a request signed with the plain `signature` (plaintext pushes, Official Account URL checks). */
export interface PlainSignedQuery {
  signature?: string | undefined;
  timestamp?: string | undefined;
  nonce?: string | undefined;
}

/** The query of an encrypted push (`encrypt_type=aes`): the `msg_signature` over the body's `Encrypt`. */
export interface EncryptedPushQuery {
  msgSignature?: string | undefined;
  timestamp?: string | undefined;
  nonce?: string | undefined;
}

/** An encrypted push: its query and its `Encrypt` value. */
export interface EncryptedPush extends EncryptedPushQuery {
  encrypt?: string | undefined;
}

/** The query of an Official Account URL check (GET): `signature`, and `msg_signature` in the lenient variant. */
export interface OfficialAccountUrlQuery extends PlainSignedQuery {
  msgSignature?: string | undefined;
  echostr?: string | undefined;
}

/** The query of a WeCom URL check (GET): `msg_signature` over the encrypted `echostr`. */
export interface WecomUrlQuery extends EncryptedPushQuery {
  echostr?: string | undefined;
}

/** A decrypted push, with the credentials that opened it (pass it to {@link WechatCallbackCrypto.encryptReply}). */
export interface DecryptedCallback {
  /** The decrypted message: the push XML (or JSON, or the echostr). */
  readonly message: string;
  /** The receiver the message named (checked equal to the configured one). */
  readonly receiveId: string;
  /** Which token signed the request. */
  readonly token: CredentialGeneration;
  /** Which EncodingAESKey decrypted it. */
  readonly key: CredentialGeneration;
}

/** An encrypted reply's four fields (`<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`). */
export interface EncryptedReply {
  readonly encrypt: string;
  readonly msgSignature: string;
  readonly timeStamp: string;
  readonly nonce: string;
}

/** Options of {@link WechatCallbackCrypto.encryptReply}. */
export interface ReplyOptions {
  /** The nonce: echo the request's (the documented practice). */
  nonce: string;
  /** Unix seconds; default now. */
  timestamp?: string;
  /** The push answered: its token and key sign and encrypt the reply. Default: the current ones. */
  inReplyTo?: Pick<DecryptedCallback, 'token' | 'key'>;
}

interface Credential<T> {
  readonly value: T;
  readonly generation: CredentialGeneration;
}

const UNIX_SECONDS = /^\d{1,15}$/;

/**
 * Verifies, decrypts and encrypts WeChat / WeCom callbacks for one receiver. Tokens and
 * keys are tried current first, then previous; secrets are registered for redaction and
 * never appear in an error.
 *
 * @example
 * ```ts
 * const crypto = new WechatCallbackCrypto({ receiveId: 'wx…', token: '…', encodingAesKey: '…' });
 * const push = crypto.decryptXml(body, { msgSignature, timestamp, nonce });
 * const reply = crypto.encryptReply('<xml>…</xml>', { nonce, inReplyTo: push });
 * respond(encryptedReplyXml(reply));
 * ```
 */
export class WechatCallbackCrypto {
  /** The receiver encrypted messages must name. */
  readonly receiveId: string;
  readonly #tokens: ReadonlyArray<Credential<string>>;
  readonly #keys: ReadonlyArray<Credential<Buffer>>;
  readonly #timestampWindowSeconds: number | undefined;
  readonly #now: () => number;
  readonly #randomBytes: RandomBytes;

  /** Decodes and checks the keys now, so a bad key fails at start-up rather than on the first push. */
  constructor(options: WechatCallbackCryptoOptions) {
    const configInvalid = (message: string) => wechatCryptoError('WECHAT_CRYPTO_CONFIG_INVALID', message);
    if (typeof options.receiveId !== 'string' || options.receiveId.length === 0) {
      throw configInvalid('receiveId is empty: set it to the AppID of the Official Account (the CorpID for WeCom)');
    }
    if (typeof options.token !== 'string' || options.token.length === 0) {
      throw configInvalid('token is empty: set it to the Token of the admin console');
    }
    const window = options.timestampWindowSeconds;
    if (window !== undefined && !(Number.isFinite(window) && window > 0)) {
      throw configInvalid(`timestampWindowSeconds is ${window}: give a positive number of seconds, or leave it unset`);
    }
    for (const secret of [
      options.token,
      options.previousToken,
      options.encodingAesKey,
      options.previousEncodingAesKey,
    ]) {
      registerSecret(secret);
    }
    this.receiveId = options.receiveId;
    this.#tokens = [
      { value: options.token, generation: 'current' as const },
      ...(options.previousToken ? [{ value: options.previousToken, generation: 'previous' as const }] : []),
    ];
    this.#keys = [
      ...(options.encodingAesKey
        ? [{ value: decodeEncodingAesKey(options.encodingAesKey), generation: 'current' as const }]
        : []),
      ...(options.previousEncodingAesKey
        ? [
            {
              value: decodeEncodingAesKey(options.previousEncodingAesKey, 'previousEncodingAesKey'),
              generation: 'previous' as const,
            },
          ]
        : []),
    ];
    this.#timestampWindowSeconds = window;
    this.#now = options.now ?? Date.now;
    this.#randomBytes = options.randomBytes ?? nodeRandomBytes;
  }

  /** True when an EncodingAESKey is configured (encrypted pushes and WeCom need one). */
  get canDecrypt(): boolean {
    return this.#keys.length > 0;
  }

  /**
   * Checks the plain `signature` = sha1(sort(token, timestamp, nonce)) of a plaintext push
   * or an Official Account URL check, and the freshness window. Returns the token that matched.
   */
  verifySignature(query: PlainSignedQuery): CredentialGeneration {
    const signature = required(query.signature, 'signature');
    const timestamp = required(query.timestamp, 'timestamp');
    const nonce = required(query.nonce, 'nonce');
    const token = this.#matchToken(signature, [timestamp, nonce], 'signature');
    this.checkTimestamp(timestamp);
    return token;
  }

  /**
   * Verifies and decrypts an encrypted push: `msg_signature` over [token, timestamp, nonce,
   * Encrypt], then AES with the current key or else the previous one, then the receiveId.
   */
  decrypt(push: EncryptedPush): DecryptedCallback {
    const msgSignature = required(push.msgSignature, 'msg_signature');
    const timestamp = required(push.timestamp, 'timestamp');
    const nonce = required(push.nonce, 'nonce');
    const encrypt = required(push.encrypt, 'Encrypt');
    const token = this.#matchToken(msgSignature, [timestamp, nonce, encrypt], 'msg_signature');
    this.checkTimestamp(timestamp);
    return { ...this.#decryptWithKeys(encrypt), token };
  }

  /**
   * Reads an encrypted XML body (`<xml><ToUserName/><Encrypt/>…</xml>`) safely and
   * decrypts its `Encrypt` like {@link decrypt}. The message is the inner push XML.
   */
  decryptXml(body: string, query: EncryptedPushQuery): DecryptedCallback {
    const envelope = readWechatXml(body);
    const encrypt = envelope.Encrypt;
    if (typeof encrypt !== 'string') {
      throw wechatCryptoError(
        'WECHAT_CRYPTO_MISSING_PARAMETER',
        'the encrypted body has no single <Encrypt> element with text (encrypt_type=aes needs one)',
      );
    }
    return this.decrypt({ ...query, encrypt });
  }

  /**
   * Encrypts a reply: the message under the key that opened the push (`inReplyTo`), signed
   * with the token that signed it, over the reply's own timestamp and nonce.
   */
  encryptReply(message: string, options: ReplyOptions): EncryptedReply {
    const nonce = required(options.nonce, 'nonce');
    const timeStamp = options.timestamp ?? String(Math.floor(this.#now() / 1000));
    const key = this.#keys.find((candidate) => candidate.generation === (options.inReplyTo?.key ?? 'current'));
    if (!key) throw this.#noKey('encrypting a reply');
    const token = this.#tokens.find((candidate) => candidate.generation === (options.inReplyTo?.token ?? 'current'));
    const encrypt = encryptMessage(key.value, message, this.receiveId, this.#randomBytes);
    const msgSignature = callbackSignature([(token ?? this.#current()).value, timeStamp, nonce, encrypt]);
    return { encrypt, msgSignature, timeStamp, nonce };
  }

  /**
   * Answers an Official Account URL check (GET): verifies `signature` and returns `echostr`
   * unchanged (an OA's echostr is plaintext). Leniently, a check that carries
   * `msg_signature` (never documented for an OA; node-webot handles it) is verified over
   * [token, timestamp, nonce, echostr] and answered with the decrypted echostr.
   */
  verifyOfficialAccountUrl(query: OfficialAccountUrlQuery): string {
    if (query.msgSignature) return this.verifyWecomUrl(query);
    const echostr = required(query.echostr, 'echostr');
    this.verifySignature(query);
    return echostr;
  }

  /**
   * Answers a WeCom URL check (GET): verifies `msg_signature` over the encrypted `echostr`
   * and returns the decrypted plaintext (WeCom wants it within 1 s, without quotes, BOM or newline).
   */
  verifyWecomUrl(query: WecomUrlQuery): string {
    const echostr = required(query.echostr, 'echostr');
    return this.decrypt({ ...query, encrypt: echostr }).message;
  }

  /** Refuses a `timestamp` outside the configured window (no-op when none is configured). */
  checkTimestamp(timestamp: string): void {
    const window = this.#timestampWindowSeconds;
    if (window === undefined) return;
    const nowSeconds = this.#now() / 1000;
    if (!UNIX_SECONDS.test(timestamp)) {
      throw wechatCryptoError(
        'WECHAT_CRYPTO_STALE_TIMESTAMP',
        `the timestamp ${JSON.stringify(timestamp.slice(0, 32))} is not unix seconds`,
      );
    }
    const skew = Math.abs(nowSeconds - Number(timestamp));
    if (skew > window) {
      throw wechatCryptoError(
        'WECHAT_CRYPTO_STALE_TIMESTAMP',
        `the timestamp ${timestamp} is ${Math.round(skew)} s from this host's clock, outside the ${window} s window`,
        { details: { timestamp, nowSeconds: Math.floor(nowSeconds), windowSeconds: window } },
      );
    }
  }

  #current(): Credential<string> {
    return this.#tokens[0] as Credential<string>;
  }

  #matchToken(received: string, parts: readonly string[], name: string): CredentialGeneration {
    for (const token of this.#tokens) {
      if (signaturesEqual(callbackSignature([token.value, ...parts]), received)) return token.generation;
    }
    throw wechatCryptoError(
      'WECHAT_CRYPTO_BAD_SIGNATURE',
      `the ${name} does not match: the request was not signed with the configured token${this.#tokens.length > 1 ? ' nor the previous one' : ''}`,
      { details: { parameter: name, tokensTried: this.#tokens.length } },
    );
  }

  #decryptWithKeys(encrypt: string): Omit<DecryptedCallback, 'token'> {
    if (this.#keys.length === 0) throw this.#noKey('decrypting an encrypted push');
    let firstError: KefuError | undefined;
    for (const key of this.#keys) {
      try {
        const payload = decryptMessage(key.value, encrypt);
        if (payload.receiveId !== this.receiveId) {
          throw wechatCryptoError(
            'WECHAT_CRYPTO_BAD_RECEIVE_ID',
            `the message was encrypted for another receiver than the configured receiveId ${this.receiveId}`,
            { details: { receiveId: this.receiveId } },
          );
        }
        return { message: payload.message, receiveId: payload.receiveId, key: key.generation };
      } catch (error) {
        // Only the ciphertext's own failures let the next key try; anything else is a bug.
        if (!isCryptoFailure(error)) throw error;
        firstError ??= error;
      }
    }
    const error = firstError as KefuError;
    if (this.#keys.length === 1) throw error;
    throw wechatCryptoError(
      error.code as Parameters<typeof wechatCryptoError>[0],
      `${error.message} (the previous EncodingAESKey failed too)`,
      { cause: error, details: { ...error.details, keysTried: this.#keys.length } },
    );
  }

  #noKey(doing: string): KefuError {
    return wechatCryptoError(
      'WECHAT_CRYPTO_BAD_KEY',
      `no encodingAesKey is configured, which ${doing} needs: set the EncodingAESKey of the admin console`,
    );
  }
}

const CIPHERTEXT_FAILURES: ReadonlySet<string> = new Set([
  'WECHAT_CRYPTO_BAD_PADDING',
  'WECHAT_CRYPTO_BAD_CIPHERTEXT',
  'WECHAT_CRYPTO_BAD_RECEIVE_ID',
]);

function isCryptoFailure(error: unknown): error is KefuError {
  return (
    typeof error === 'object' && error !== null && CIPHERTEXT_FAILURES.has((error as { code?: unknown }).code as string)
  );
}

function required(value: string | undefined, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw wechatCryptoError('WECHAT_CRYPTO_MISSING_PARAMETER', `the callback request has no ${name}`, {
      details: { parameter: name },
    });
  }
  return value;
}

/**
 * The XML of an encrypted reply, in the documented element order; CDATA sections are split
 * where a value holds `]]>` (a nonce is the caller's input).
 */
export function encryptedReplyXml(reply: EncryptedReply): string {
  return (
    `<xml><Encrypt>${cdata(reply.encrypt)}</Encrypt><MsgSignature>${cdata(reply.msgSignature)}</MsgSignature>` +
    `<TimeStamp>${escapeText(reply.timeStamp)}</TimeStamp><Nonce>${cdata(reply.nonce)}</Nonce></xml>`
  );
}

function cdata(text: string): string {
  return `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
