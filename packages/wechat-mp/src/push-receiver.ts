import { isKefuError, type PushDecision, type PushReceiver, type PushRequest, rejectPush } from '@kefu/core';
import { WechatCallbackCrypto } from '@kefu/wechat-crypto';
import { normalizePush, pushDedupeKey, readPushXml } from './push-messages.js';

/**
 * The server URL of one Official Account (wechat-push.md §1): GET URL verification, and
 * POSTed pushes in the plaintext, compatible and safe modes. A push is accepted only when
 * its signature (plaintext: `signature`; `encrypt_type=aes`: `msg_signature` over the
 * `Encrypt`) matches, its timestamp is fresh, it decrypts for this AppID and its XML is a
 * push; it is then normalized to a record and acknowledged `success` by the server once
 * stored. Anything else gets a 4xx and nothing is written.
 */

/** The `push` block of an account (see `WechatMpAccountSchema`). */
export interface WechatPushSettings {
  token: string;
  encodingAesKey?: string | undefined;
  previousToken?: string | undefined;
  previousEncodingAesKey?: string | undefined;
  /** Path of the server URL (default `/wechat/{appId}`). */
  path?: string | undefined;
  /** Refuse timestamps further than this from the clock, s (default 300). */
  timestampWindowSeconds?: number | undefined;
}

/** Options of {@link WechatPushReceiver}. */
export interface WechatPushReceiverOptions extends WechatPushSettings {
  appId: string;
  /** The clock, ms (default Date.now). */
  now?: () => number;
}

/** The default freshness window: WeChat retries 3 times within about 15 s; leave room for clock skew. */
export const DEFAULT_PUSH_TIMESTAMP_WINDOW_SECONDS = 300;

/** Why a request was refused, by the crypto package's code: status and the reason counted in metrics. */
const REJECTIONS: Readonly<Record<string, { status: number; reason: string }>> = {
  WECHAT_CRYPTO_BAD_SIGNATURE: { status: 401, reason: 'bad_signature' },
  WECHAT_CRYPTO_STALE_TIMESTAMP: { status: 401, reason: 'stale_timestamp' },
  WECHAT_CRYPTO_MISSING_PARAMETER: { status: 400, reason: 'missing_parameter' },
  WECHAT_CRYPTO_BAD_RECEIVE_ID: { status: 403, reason: 'wrong_appid' },
  WECHAT_CRYPTO_BAD_PADDING: { status: 400, reason: 'bad_ciphertext' },
  WECHAT_CRYPTO_BAD_CIPHERTEXT: { status: 400, reason: 'bad_ciphertext' },
  WECHAT_CRYPTO_BAD_KEY: { status: 400, reason: 'encryption_not_configured' },
  WECHAT_CRYPTO_MALFORMED_XML: { status: 400, reason: 'malformed_xml' },
  WECHAT_CRYPTO_FORBIDDEN_DTD: { status: 400, reason: 'forbidden_dtd' },
  WECHAT_PUSH_INVALID: { status: 400, reason: 'invalid_push' },
};

/** The acknowledgement WeChat documents: `success` stops its retries (wechat-push.md §0.6). */
const SUCCESS = { status: 200, body: 'success' } as const;

/** One Official Account's push receiver (see the module comment). */
export class WechatPushReceiver implements PushReceiver {
  readonly id: string;
  readonly provider = 'wechat-mp';
  readonly account: string;
  readonly pathPrefix: string;
  /** No answer body and a 503: WeChat retries (an empty 200 would stop the retries). */
  readonly unavailableAnswer = { status: 503, body: '' };
  readonly #crypto: WechatCallbackCrypto;

  /** Checks the token and keys now (a bad EncodingAESKey fails at start-up). */
  constructor(options: WechatPushReceiverOptions) {
    this.account = options.appId;
    this.id = `wechat-mp/${options.appId}`;
    this.pathPrefix = options.path ?? `/wechat/${options.appId}`;
    this.#crypto = new WechatCallbackCrypto({
      receiveId: options.appId,
      token: options.token,
      ...(options.encodingAesKey ? { encodingAesKey: options.encodingAesKey } : {}),
      ...(options.previousToken ? { previousToken: options.previousToken } : {}),
      ...(options.previousEncodingAesKey ? { previousEncodingAesKey: options.previousEncodingAesKey } : {}),
      timestampWindowSeconds: options.timestampWindowSeconds ?? DEFAULT_PUSH_TIMESTAMP_WINDOW_SECONDS,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  handle(request: PushRequest): PushDecision {
    try {
      if (request.subpath !== '') return rejectPush(404, 'unknown_path', 'no such receiver path');
      if (request.method === 'GET') return this.#verifyUrl(request);
      if (request.method === 'POST') return this.#acceptPush(request);
      return rejectPush(405, 'method_not_allowed', 'WeChat pushes are POSTed; URL verification is a GET');
    } catch (error) {
      const rejection = isKefuError(error) ? REJECTIONS[error.code] : undefined;
      if (!rejection) throw error;
      return rejectPush(rejection.status, rejection.reason, (error as Error).message);
    }
  }

  #verifyUrl(request: PushRequest): PushDecision {
    const query = request.query;
    const echostr = this.#crypto.verifyOfficialAccountUrl({
      signature: query.get('signature') ?? undefined,
      msgSignature: query.get('msg_signature') ?? undefined,
      timestamp: query.get('timestamp') ?? undefined,
      nonce: query.get('nonce') ?? undefined,
      echostr: query.get('echostr') ?? undefined,
    });
    return { kind: 'reply', answer: { status: 200, body: echostr } };
  }

  #acceptPush(request: PushRequest): PushDecision {
    const query = request.query;
    const body = request.body.toString('utf8');
    const timestamp = query.get('timestamp') ?? undefined;
    const nonce = query.get('nonce') ?? undefined;
    let xml: string;
    if (query.get('encrypt_type') === 'aes') {
      // Compatible and safe modes: msg_signature over the Encrypt, then the AppID inside.
      xml = this.#crypto.decryptXml(body, {
        msgSignature: query.get('msg_signature') ?? undefined,
        timestamp,
        nonce,
      }).message;
    } else {
      this.#crypto.verifySignature({ signature: query.get('signature') ?? undefined, timestamp, nonce });
      xml = body;
    }
    const push = readPushXml(xml);
    return {
      kind: 'accept',
      dedupeKey: pushDedupeKey(this.account, push),
      records: [normalizePush(this.account, push)],
      ack: SUCCESS,
    };
  }
}
