import type { IncomingHttpHeaders } from 'node:http';
import type { KefuProvider } from './provider.js';
import type { KefuRecord } from './record.js';

/**
 * Push receivers: the contract between a provider that is pushed to (WeChat's server URL,
 * Youmi callbacks) and the process that serves HTTP (`kefu serve`, or an application's own
 * server). A receiver owns a path prefix and turns one authenticated request into records
 * and an answer; it never writes anything itself. The server writes the records durably
 * (the push spool) and only then sends the answer that tells the platform "stored" —
 * a platform that gets no answer retries, so nothing acknowledged is ever lost.
 */

/** One HTTP request, read whole by the server (within its size and time limits). */
export interface PushRequest {
  /** `GET`, `POST`, … */
  readonly method: string;
  /** The path below the receiver's prefix (`''` for the prefix itself), without the query. */
  readonly subpath: string;
  /** The query string, parsed. */
  readonly query: URLSearchParams;
  /** Header names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** The raw body bytes (empty for GET). Signatures are computed over these bytes. */
  readonly body: Buffer;
  /** When the server had the whole request, ms since the epoch. */
  readonly receivedAt: number;
}

/** An HTTP answer. */
export interface PushAnswer {
  readonly status: number;
  readonly body: string;
  /** Default `text/plain; charset=utf-8`. */
  readonly contentType?: string;
}

/**
 * What to do with a request:
 * - `reply`: answer now, write nothing (a URL verification, a health probe of the platform);
 * - `reject`: answer now with a 4xx, write nothing, count it under `reason`;
 * - `accept`: write `records` durably, then send `ack`. `dedupeKey` names the push across the
 *   platform's retries and replays: a push whose key was already accepted is acknowledged
 *   again without writing anything.
 * - `pull`: answer now, write nothing, and have the server pull the records of `account`
 *   (a sync of that provider account, through its checkpoint). For platforms whose pushes
 *   are doorbells without content (WeCom `kf_msg_or_event`): the pull and the scheduled
 *   backfill read one cursor, so a lost doorbell only delays records, never loses them.
 */
export type PushDecision =
  | { readonly kind: 'reply'; readonly answer: PushAnswer }
  | { readonly kind: 'reject'; readonly reason: string; readonly answer: PushAnswer }
  | { readonly kind: 'pull'; readonly account: string; readonly answer: PushAnswer }
  | {
      readonly kind: 'accept';
      readonly dedupeKey: string;
      readonly records: readonly KefuRecord[];
      readonly ack: PushAnswer;
    };

/**
 * A receiver: one platform account's push endpoint. `handle` must not write anything;
 * it may throw, which the server answers with a 500 (and the platform retries).
 */
export interface PushReceiver {
  /** Unique in one process, e.g. `wechat-mp/wx123`. */
  readonly id: string;
  /** The platform name records of this receiver carry (`wechat-mp`, `youmi`). */
  readonly provider: string;
  /** The account the pushes belong to. */
  readonly account: string;
  /** The path prefix this receiver owns, starting with `/` (e.g. `/wechat/wx123`). */
  readonly pathPrefix: string;
  /**
   * The answer the platform is owed when the records could not be stored in time.
   * Default: a 503 with an empty body — WeChat and Youmi then retry.
   */
  readonly unavailableAnswer?: PushAnswer;
  /** Decides what to do with one request (see {@link PushDecision}). */
  handle(request: PushRequest): PushDecision | Promise<PushDecision>;
}

/** A provider that can be pushed to: it hands out one receiver per pushed account. */
export interface PushReceiverProvider extends KefuProvider {
  /** The receivers of the accounts configured for pushes (possibly none). */
  pushReceivers(): readonly PushReceiver[];
}

/** True when `provider` hands out push receivers (checked by shape, not `instanceof`). */
export function hasPushReceivers(provider: KefuProvider): provider is PushReceiverProvider {
  return typeof (provider as Partial<PushReceiverProvider>).pushReceivers === 'function';
}

/** A `reject` decision with a short plain-text answer. */
export function rejectPush(status: number, reason: string, message: string): PushDecision {
  return { kind: 'reject', reason, answer: { status, body: `${message}\n` } };
}
