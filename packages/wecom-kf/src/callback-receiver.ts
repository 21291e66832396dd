import { isKefuError, type PushDecision, type PushReceiver, type PushRequest, rejectPush } from '@kefu/core';
import { readWechatXml, WechatCallbackCrypto } from '@kefu/wechat-crypto';
import { wecomKfError } from './errors.js';
import { WECOM_KF_PLATFORM } from './record-normalizer.js';
import type { CallbackTokens } from './sync-msg-pages.js';

/**
 * The callback URL of one WeCom app for `kf_msg_or_event` (wecom-kf.md §5): GET URL
 * verification (msg_signature over the encrypted `echostr`, answered with its plaintext),
 * and POSTed events (msg_signature over `Encrypt`, AES-decrypted, receiveid = CorpID). The
 * event carries no message, only a `Token` (valid 10 min) and the `OpenKfId` with news: the
 * receiver keeps the token for the pull and asks the server to pull that account (decision
 * `pull`), answering 200 with an empty body at once ("可以直接返回200（即以空串为返回包）").
 */

/** The `callback` block of the config. */
export interface WecomCallbackSettings {
  token: string;
  encodingAesKey: string;
  previousToken?: string | undefined;
  previousEncodingAesKey?: string | undefined;
  path?: string | undefined;
  timestampWindowSeconds?: number | undefined;
}

/** Options of {@link WecomKfCallbackReceiver}. */
export interface WecomKfCallbackReceiverOptions extends WecomCallbackSettings {
  /** The CorpID: the receiveid every encrypted callback must name. */
  corpId: string;
  /** The open_kfids this provider serves: callbacks for others are acknowledged and ignored. */
  accounts: readonly string[];
  /** Where callback tokens go for the pulls. */
  tokens: CallbackTokens;
  /** The provider instance id (the receiver id is `{instanceId}/{corpId}`). */
  instanceId?: string;
  now?: () => number;
}

/** The default freshness window: WeCom retries 3 times within about 15 s; leave room for clock skew. */
export const DEFAULT_CALLBACK_TIMESTAMP_WINDOW_SECONDS = 300;

/** Why a request was refused, by the crypto package's code: status and the reason counted in metrics. */
const REJECTIONS: Readonly<Record<string, { status: number; reason: string }>> = {
  WECHAT_CRYPTO_BAD_SIGNATURE: { status: 401, reason: 'bad_signature' },
  WECHAT_CRYPTO_STALE_TIMESTAMP: { status: 401, reason: 'stale_timestamp' },
  WECHAT_CRYPTO_MISSING_PARAMETER: { status: 400, reason: 'missing_parameter' },
  WECHAT_CRYPTO_BAD_RECEIVE_ID: { status: 403, reason: 'wrong_corpid' },
  WECHAT_CRYPTO_BAD_PADDING: { status: 400, reason: 'bad_ciphertext' },
  WECHAT_CRYPTO_BAD_CIPHERTEXT: { status: 400, reason: 'bad_ciphertext' },
  WECHAT_CRYPTO_MALFORMED_XML: { status: 400, reason: 'malformed_xml' },
  WECHAT_CRYPTO_FORBIDDEN_DTD: { status: 400, reason: 'forbidden_dtd' },
  WECOM_CALLBACK_INVALID: { status: 400, reason: 'invalid_callback' },
};

/** 200 with an empty body: what WeCom documents as an acknowledgement. */
const EMPTY_OK = { status: 200, body: '' } as const;

/** A decrypted `kf_msg_or_event` event. */
export interface KfMsgOrEvent {
  toUserName: string;
  createTime: string;
  token: string;
  openKfId: string;
}

/** Reads a decrypted callback; WECOM_CALLBACK_INVALID names what is missing. Other events are `undefined`. */
export function readKfCallback(xml: string): KfMsgOrEvent | undefined {
  const fields = readWechatXml(xml);
  const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : undefined);
  if (text('MsgType') !== 'event' || text('Event') !== 'kf_msg_or_event') return undefined;
  const missing = ['ToUserName', 'CreateTime', 'Token', 'OpenKfId'].filter((name) => !text(name));
  if (missing.length > 0) {
    throw wecomKfError('WECOM_CALLBACK_INVALID', `kf_msg_or_event callback without ${missing.join(', ')}`);
  }
  return {
    toUserName: text('ToUserName') as string,
    createTime: text('CreateTime') as string,
    token: text('Token') as string,
    openKfId: text('OpenKfId') as string,
  };
}

/** One WeCom app's callback receiver (see the module comment). */
export class WecomKfCallbackReceiver implements PushReceiver {
  readonly id: string;
  readonly provider = WECOM_KF_PLATFORM;
  /** The corp: callbacks of every kf account of the app come to one URL. */
  readonly account: string;
  readonly pathPrefix: string;
  /** A 503 with an empty body: WeCom retries (3 times in all). */
  readonly unavailableAnswer = { status: 503, body: '' };
  readonly #crypto: WechatCallbackCrypto;
  readonly #accounts: ReadonlySet<string>;
  readonly #tokens: CallbackTokens;

  /** Checks the token and key now (a bad EncodingAESKey fails at start-up). */
  constructor(options: WecomKfCallbackReceiverOptions) {
    this.account = options.corpId;
    this.id = `${options.instanceId ?? WECOM_KF_PLATFORM}/${options.corpId}`;
    this.pathPrefix = options.path ?? `/wecom-kf/${options.corpId}`;
    this.#accounts = new Set(options.accounts);
    this.#tokens = options.tokens;
    this.#crypto = new WechatCallbackCrypto({
      receiveId: options.corpId,
      token: options.token,
      encodingAesKey: options.encodingAesKey,
      ...(options.previousToken ? { previousToken: options.previousToken } : {}),
      ...(options.previousEncodingAesKey ? { previousEncodingAesKey: options.previousEncodingAesKey } : {}),
      timestampWindowSeconds: options.timestampWindowSeconds ?? DEFAULT_CALLBACK_TIMESTAMP_WINDOW_SECONDS,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  handle(request: PushRequest): PushDecision {
    try {
      if (request.subpath !== '') return rejectPush(404, 'unknown_path', 'no such receiver path');
      if (request.method === 'GET') return this.#verifyUrl(request);
      if (request.method === 'POST') return this.#acceptCallback(request);
      return rejectPush(405, 'method_not_allowed', 'WeCom callbacks are POSTed; URL verification is a GET');
    } catch (error) {
      const rejection = isKefuError(error) ? REJECTIONS[error.code] : undefined;
      if (!rejection) throw error;
      return rejectPush(rejection.status, rejection.reason, (error as Error).message);
    }
  }

  #verifyUrl(request: PushRequest): PushDecision {
    // URLSearchParams has already URL-decoded the query (the doc's first step).
    const echo = this.#crypto.verifyWecomUrl({
      msgSignature: request.query.get('msg_signature') ?? undefined,
      timestamp: request.query.get('timestamp') ?? undefined,
      nonce: request.query.get('nonce') ?? undefined,
      echostr: request.query.get('echostr') ?? undefined,
    });
    // "不能加引号，不能带bom头，不能带换行符": the plaintext exactly.
    return { kind: 'reply', answer: { status: 200, body: echo } };
  }

  #acceptCallback(request: PushRequest): PushDecision {
    const decrypted = this.#crypto.decryptXml(request.body.toString('utf8'), {
      msgSignature: request.query.get('msg_signature') ?? undefined,
      timestamp: request.query.get('timestamp') ?? undefined,
      nonce: request.query.get('nonce') ?? undefined,
    });
    const callback = readKfCallback(decrypted.message);
    // Another event of the app (not kf): acknowledged, nothing to pull.
    if (!callback) return { kind: 'reply', answer: EMPTY_OK };
    if (!this.#accounts.has(callback.openKfId)) return { kind: 'reply', answer: EMPTY_OK };
    this.#tokens.remember(callback.openKfId, callback.token);
    return { kind: 'pull', account: callback.openKfId, answer: EMPTY_OK };
  }
}
