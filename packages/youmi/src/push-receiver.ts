import { createHash } from 'node:crypto';
import { type PushDecision, type PushReceiver, type PushRequest, registerSecret, rejectPush } from '@kefu/core';
import { authenticateYoumiCallback } from './callback-auth.js';
import { YoumiCallbackParser } from './callback-parser.js';
import { type YoumiCallbacksConfig, YoumiCallbacksConfigSchema } from './callbacks-config.js';
import { youmiError } from './errors.js';

/**
 * Authenticated Youmi callbacks for `kefu serve`. The Youmi docs define no signature
 * (platforms/youmi-api.md §2.9, §3), so a receiver requires its own secret:
 * - `pathSecret`: an unguessable path segment — register `https://host/youmi/{id}/{pathSecret}`
 *   (v1: in the back office, 回调数据; v2: `registerCallbackUrl` / `subscribeEvent` `url`);
 * - `hmacSecret`: headers `X-Kefu-Timestamp` (unix seconds) and `X-Kefu-Signature:
 *   sha256=<hex HMAC-SHA256(hmacSecret, timestamp + "." + raw body)>`, added by a signing
 *   gateway in front (Youmi itself cannot sign).
 * With both set, both are required. Anything else gets 401/403 and nothing is written.
 * A callback is identified by the SHA-256 of its raw body: a replay inside the spool's
 * window is acknowledged again and stored nowhere.
 */

/** Options of {@link YoumiPushReceiver}. */
export interface YoumiPushReceiverOptions {
  /** The provider instance id: the default path is `/youmi/{id}`; the receiver's account label. */
  providerId: string;
  callbacks: YoumiCallbacksConfig;
  /** Offset of zone-less chat times, minutes east of UTC (default +480). */
  timeZoneOffsetMinutes?: number;
  /** Only chats of these wechatIds become records (default all). */
  wechatIds?: readonly number[];
  /** The clock, ms (default Date.now). */
  now?: () => number;
}

/** One Youmi provider instance's callback endpoint (see the module comment). */
export class YoumiPushReceiver implements PushReceiver {
  readonly id: string;
  readonly provider = 'youmi';
  readonly account: string;
  readonly pathPrefix: string;
  readonly #config: YoumiCallbacksConfig;
  readonly #parser: YoumiCallbackParser;
  readonly #now: () => number;

  constructor(options: YoumiPushReceiverOptions) {
    const parsed = YoumiCallbacksConfigSchema.safeParse(options.callbacks);
    if (!parsed.success) {
      throw youmiError('YOUMI_CONFIG_INVALID', `callbacks: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    this.#config = parsed.data;
    registerSecret(this.#config.pathSecret);
    registerSecret(this.#config.hmacSecret);
    this.account = options.providerId;
    this.id = `youmi/${options.providerId}`;
    this.pathPrefix = this.#config.path ?? `/youmi/${options.providerId}`;
    this.#parser = new YoumiCallbackParser({
      ...(options.timeZoneOffsetMinutes === undefined ? {} : { timeZoneOffsetMinutes: options.timeZoneOffsetMinutes }),
      ...(options.wechatIds ? { wechatIds: options.wechatIds } : {}),
    });
    this.#now = options.now ?? Date.now;
  }

  handle(request: PushRequest): PushDecision {
    const refused = this.#authenticate(request);
    if (refused) return refused;
    if (request.method !== 'POST') return rejectPush(405, 'method_not_allowed', 'Youmi callbacks are POSTed');
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      return rejectPush(400, 'malformed_json', 'the body is not JSON');
    }
    const answer = this.#parser.read(body);
    if (!answer.event) return { kind: 'reject', reason: 'invalid_callback', answer: json(400, answer.body) };
    return {
      kind: 'accept',
      dedupeKey: `youmi/${this.account}/${createHash('sha256').update(request.body).digest('hex')}`,
      records: answer.event.records,
      ack: json(200, answer.body),
    };
  }

  /** The refusal of an unauthenticated request, or undefined when it may pass. */
  #authenticate(request: PushRequest): PushDecision | undefined {
    const refusal = authenticateYoumiCallback(this.#config, request, this.#now());
    return refusal && rejectPush(refusal.status, refusal.reason, refusal.message);
  }
}

function json(status: number, body: unknown) {
  return { status, body: JSON.stringify(body), contentType: 'application/json; charset=utf-8' };
}
