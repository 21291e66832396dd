import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { emulatorError } from '../errors.js';
import { storeMedia } from './media.js';
import { wechatEncrypt, wechatSignature } from './push-crypto.js';

/**
 * Pushes like WeChat's server (wechat-push.md §0, §1, §4): the XML of a customer message or
 * a kf session event POSTed to the account's server URL in the plaintext, compatible or
 * safe mode, signed with the account's Token (and encrypted with its EncodingAESKey), with
 * WeChat's 5-second deadline and 3 tries in total, spaced as the `retrySpacing` reading says. A try counts as acknowledged when the
 * answer is HTTP 200 with `success` or an empty body, as WeChat reads it. Image, voice and
 * video pushes carry a `MediaId` whose bytes `GET /cgi-bin/media/get` serves for 3 days.
 */

/** Where and how an app id's pushes go (`PUT /__emulator/wechat/push-target`). */
export const PushTargetSchema = z.strictObject({
  appid: z.string().min(1),
  url: z.url(),
  token: z.string().min(1),
  encodingAesKey: z.string().length(43).optional(),
  mode: z.enum(['plaintext', 'compatible', 'safe']).default('plaintext'),
  /** WeChat waits 5 s per try. */
  deadlineMs: z.number().int().positive().default(5_000),
  /** WeChat tries 3 times in total. */
  tries: z.number().int().min(1).max(10).default(3),
  /**
   * When the next try starts (an open point: WeChat documents 5 s and 3 tries, not the spacing;
   * docs/providers/wechat-mp.md): `back-to-back` right after the previous try ended (a refusal
   * is retried at once, a hang after the deadline); `fixed` `retrySpacingMs` after it ended;
   * `deadline` `deadlineMs` after it started (the commonly reported "three tries ~5 s apart").
   */
  retrySpacing: z.enum(['back-to-back', 'fixed', 'deadline']).default('back-to-back'),
  /** The pause of the `fixed` spacing, ms. */
  retrySpacingMs: z.number().int().min(0).max(600_000).default(1_000),
});
/** A push target. */
export type PushTarget = z.output<typeof PushTargetSchema>;

/** What to push (`POST /__emulator/wechat/push`). */
export const PushRequestSchema = z.strictObject({
  appid: z.string().min(1),
  openid: z.string().min(1),
  kind: z
    .enum([
      'text',
      'image',
      'voice',
      'video',
      'shortvideo',
      'kf_create_session',
      'kf_close_session',
      'kf_switch_session',
    ])
    .default('text'),
  text: z.string().optional(),
  kfAccount: z.string().optional(),
  toKfAccount: z.string().optional(),
  /** Unix seconds of CreateTime (default the emulator clock). */
  createTime: z.number().int().positive().optional(),
});
/** A push request. */
export type PushRequestInput = z.input<typeof PushRequestSchema>;

/** One try of one push. */
export interface PushAttempt {
  attempt: number;
  /** When the try started and ended (wall clock, ms): the spacing readings are measured on these. */
  startedAt: number;
  endedAt: number;
  /** HTTP status, or undefined when the try timed out or the connection failed. */
  status?: number;
  acknowledged: boolean;
  error?: string;
}

/** One push and its tries. */
export interface PushDelivery {
  /** 1-based number of the push (a resend keeps the number of the push it repeats). */
  id: number;
  appid: string;
  /** The push's MsgId (messages) or undefined (events). */
  msgId?: string;
  mediaId?: string;
  xml: string;
  attempts: PushAttempt[];
  acknowledged: boolean;
}

/** The push state of one emulated platform. */
export class WechatPushSender {
  readonly #targets = new Map<string, PushTarget>();
  readonly #deliveries: PushDelivery[] = [];
  /** Aborted by {@link close}: cuts pauses between tries and tries in flight. */
  readonly #closing = new AbortController();
  #nextMsgId = 7_000_000_000_000_000_001n;

  /** Stops pushing: pauses between tries end at once and no further try starts. */
  close(): void {
    this.#closing.abort();
  }

  /** Sets where an app id's pushes go. */
  setTarget(input: unknown): PushTarget {
    const parsed = PushTargetSchema.safeParse(input);
    if (!parsed.success) {
      throw emulatorError(
        'EMULATOR_OPTIONS_INVALID',
        `push-target needs {appid, url, token, encodingAesKey?, mode?: plaintext|compatible|safe, deadlineMs?, tries?, retrySpacing?: back-to-back|fixed|deadline, retrySpacingMs?}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    }
    if (parsed.data.mode !== 'plaintext' && !parsed.data.encodingAesKey) {
      throw emulatorError('EMULATOR_OPTIONS_INVALID', `push-target: mode ${parsed.data.mode} needs encodingAesKey`);
    }
    this.#targets.set(parsed.data.appid, parsed.data);
    return parsed.data;
  }

  /** Every push sent so far, oldest first. */
  deliveries(): readonly PushDelivery[] {
    return this.#deliveries;
  }

  /** Builds and sends one push (all its tries); resolves with the delivery. */
  async push(input: unknown, nowMs: number): Promise<PushDelivery> {
    const parsed = PushRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw emulatorError(
        'EMULATOR_OPTIONS_INVALID',
        `push needs {appid, openid, kind?, text?, kfAccount?, toKfAccount?}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    }
    const request = parsed.data;
    const target = this.#targets.get(request.appid);
    if (!target) {
      throw emulatorError('EMULATOR_OPTIONS_INVALID', `no push target for ${request.appid}: PUT push-target first`);
    }
    const built = this.#build(request, nowMs);
    const delivery: PushDelivery = {
      id: this.#deliveries.length + 1,
      appid: request.appid,
      ...built,
      attempts: [],
      acknowledged: false,
    };
    this.#deliveries.push(delivery);
    await this.#deliver(target, delivery);
    return delivery;
  }

  /**
   * Sends push `id` again, as WeChat retries an unanswered one (same XML, same MsgId,
   * fresh signature), with all its tries; resolves with the new delivery.
   */
  async resend(id: unknown): Promise<PushDelivery> {
    const earlier = this.#deliveries.find((delivery) => delivery.id === id);
    if (!earlier)
      throw emulatorError('EMULATOR_OPTIONS_INVALID', `push/resend needs {"id": <a push's id>}, got ${String(id)}`);
    const target = this.#targets.get(earlier.appid) as PushTarget;
    const delivery: PushDelivery = { ...earlier, attempts: [], acknowledged: false };
    this.#deliveries.push(delivery);
    await this.#deliver(target, delivery);
    return delivery;
  }

  async #deliver(target: PushTarget, delivery: PushDelivery): Promise<void> {
    const closing = this.#closing.signal;
    for (let attempt = 1; attempt <= target.tries && !delivery.acknowledged && !closing.aborted; attempt++) {
      const previous = delivery.attempts.at(-1);
      if (previous) await pause(retryPauseMs(target, previous, Date.now()), closing);
      if (closing.aborted) return;
      const startedAt = Date.now();
      const result = await sendOnce(target, delivery.xml, closing);
      delivery.attempts.push({ attempt, startedAt, endedAt: Date.now(), ...result });
      delivery.acknowledged = result.acknowledged;
    }
  }

  #build(
    request: z.output<typeof PushRequestSchema>,
    nowMs: number,
  ): { xml: string; msgId?: string; mediaId?: string } {
    const createTime = request.createTime ?? Math.floor(nowMs / 1000);
    const head = `<ToUserName><![CDATA[gh_emulator]]></ToUserName><FromUserName><![CDATA[${request.openid}]]></FromUserName><CreateTime>${createTime}</CreateTime>`;
    if (request.kind.startsWith('kf_')) {
      const agents =
        request.kind === 'kf_switch_session'
          ? `<FromKfAccount><![CDATA[${request.kfAccount ?? ''}]]></FromKfAccount><ToKfAccount><![CDATA[${request.toKfAccount ?? ''}]]></ToKfAccount>`
          : `<KfAccount><![CDATA[${request.kfAccount ?? ''}]]></KfAccount>`;
      return {
        xml: `<xml>${head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${request.kind}]]></Event>${agents}</xml>`,
      };
    }
    const msgId = String(this.#nextMsgId++);
    const body = this.#messageBody(request, msgId, nowMs);
    return {
      xml: `<xml>${head}<MsgType><![CDATA[${request.kind}]]></MsgType>${body.fields}<MsgId>${msgId}</MsgId></xml>`,
      msgId,
      ...(body.mediaId ? { mediaId: body.mediaId } : {}),
    };
  }

  #messageBody(request: z.output<typeof PushRequestSchema>, msgId: string, nowMs: number) {
    if (request.kind === 'text') return { fields: `<Content><![CDATA[${request.text ?? ''}]]></Content>` };
    const mediaId = storeMedia(this, mediaKind(request.kind), msgId, nowMs);
    const fields: Record<string, string> = {
      image: `<PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz/${msgId}/0]]></PicUrl><MediaId><![CDATA[${mediaId}]]></MediaId>`,
      voice: `<MediaId><![CDATA[${mediaId}]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[${request.text ?? ''}]]></Recognition>`,
      video: `<MediaId><![CDATA[${mediaId}]]></MediaId><ThumbMediaId><![CDATA[${mediaId}_thumb]]></ThumbMediaId>`,
      shortvideo: `<MediaId><![CDATA[${mediaId}]]></MediaId><ThumbMediaId><![CDATA[${mediaId}_thumb]]></ThumbMediaId>`,
    };
    return { fields: fields[request.kind] ?? '', mediaId };
  }
}

function mediaKind(kind: string): 'image' | 'voice' | 'video' {
  return kind === 'image' ? 'image' : kind === 'voice' ? 'voice' : 'video';
}

/** The URL and body of one try, signed (and encrypted) per the target's mode, with a fresh timestamp and nonce. */
export function signedPush(target: PushTarget, xml: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  const timestamp = String(nowSeconds);
  const nonce = String(randomBytes(4).readUInt32BE());
  const url = new URL(target.url);
  url.searchParams.set('signature', wechatSignature([target.token, timestamp, nonce]));
  url.searchParams.set('timestamp', timestamp);
  url.searchParams.set('nonce', nonce);
  url.searchParams.set('openid', /<FromUserName><!\[CDATA\[(.*?)\]\]>/.exec(xml)?.[1] ?? '');
  if (target.mode === 'plaintext') return { url, body: xml };
  const encrypt = wechatEncrypt(target.encodingAesKey ?? '', xml, target.appid);
  url.searchParams.set('encrypt_type', 'aes');
  url.searchParams.set('msg_signature', wechatSignature([target.token, timestamp, nonce, encrypt]));
  const plainFields =
    target.mode === 'compatible'
      ? xml.replace(/^<xml>|<\/xml>$/g, '')
      : '<ToUserName><![CDATA[gh_emulator]]></ToUserName>';
  return { url, body: `<xml>${plainFields}<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>` };
}

/** How long to wait after try `previous` before the next one, under the target's spacing reading. */
export function retryPauseMs(
  target: Pick<PushTarget, 'retrySpacing' | 'retrySpacingMs' | 'deadlineMs'>,
  previous: Pick<PushAttempt, 'startedAt' | 'endedAt'>,
  now: number,
): number {
  switch (target.retrySpacing) {
    case 'back-to-back':
      return 0;
    case 'fixed':
      return Math.max(0, previous.endedAt + target.retrySpacingMs - now);
    case 'deadline':
      return Math.max(0, previous.startedAt + target.deadlineMs - now);
  }
}

/**
 * Waits `ms` by the wall clock (real time: WeChat's retries are not on the emulator clock),
 * or less when `signal` aborts. A timer may fire a millisecond before `Date.now()` — what
 * attempts are stamped with — has moved `ms`: it then waits again for what is left.
 */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  for (let left = ms; left > 0 && !signal.aborted; left = until - Date.now()) await timerOrAbort(left, signal);
}

/** One timer of `ms`, cut short when `signal` aborts. */
function timerOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** One try: POST within the deadline; acknowledged on 200 with `success` or an empty body. */
async function sendOnce(
  target: PushTarget,
  xml: string,
  closing: AbortSignal,
): Promise<Omit<PushAttempt, 'attempt' | 'startedAt' | 'endedAt'>> {
  const { url, body } = signedPush(target, xml);
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/xml' },
      signal: AbortSignal.any([AbortSignal.timeout(target.deadlineMs), closing]),
    });
    const text = await response.text();
    return { status: response.status, acknowledged: response.status === 200 && (text === 'success' || text === '') };
  } catch (error) {
    return {
      acknowledged: false,
      error: (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message,
    };
  }
}
