import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { emulatorError } from '../errors.js';
import { wechatEncrypt, wechatSignature } from '../wechat/push-crypto.js';
import { pause, retryPauseMs } from '../wechat/push-sender.js';

/**
 * Rings like WeCom (wecom-kf.md §5): when a customer writes, the `kf_msg_or_event` event — a
 * doorbell with a `Token` (valid 10 min) and the `OpenKfId`, no content — is POSTed to the
 * app's callback URL, encrypted with WeCom's crypto (receiveid = CorpID, the emulator's own
 * push-crypto.ts, written apart from @kefu/wechat-crypto), with the 5-second deadline and 3
 * tries of WeCom callbacks. Setting the URL first verifies it (GET with an encrypted
 * `echostr`, answered with its plaintext), as the WeCom admin console does before saving it.
 * The open points (A7) are knobs: one callback per message or one per burst, and when a retry starts.
 */

/** How long URL verification waits (WeCom: 1 s; longer here so a loaded test machine passes). */
const VERIFY_TIMEOUT_MS = 10_000;

/** Where the app's callbacks go (`PUT /__emulator/wecom/callback-target`). */
export const WecomCallbackTargetSchema = z.strictObject({
  url: z.url(),
  /** The callback Token and EncodingAESKey (default: the emulator's, `wecom.callback`). */
  token: z.string().min(1).optional(),
  encodingAesKey: z.string().length(43).optional(),
  /** WeCom waits 5 s per try. */
  deadlineMs: z.number().int().positive().default(5_000),
  /** WeCom tries 3 times in total. */
  tries: z.number().int().min(1).max(10).default(3),
  /** When a retry starts (undocumented, as for WeChat pushes): see push-sender.ts. */
  retrySpacing: z.enum(['back-to-back', 'fixed', 'deadline']).default('back-to-back'),
  retrySpacingMs: z.number().int().min(0).max(600_000).default(1_000),
  /**
   * A7, whether several new messages ring once: `per-message` one callback (and token) per
   * message; `coalesced` one per account for the messages written within `coalesceMs`.
   */
  coalesce: z.enum(['per-message', 'coalesced']).default('per-message'),
  coalesceMs: z.number().int().min(0).max(60_000).default(200),
});
/** A callback target as written. */
export type WecomCallbackTargetInput = z.input<typeof WecomCallbackTargetSchema>;
/** A resolved callback target. */
export type WecomCallbackTarget = Omit<z.output<typeof WecomCallbackTargetSchema>, 'token' | 'encodingAesKey'> & {
  token: string;
  encodingAesKey: string;
};

/** One try of one callback. */
export interface WecomCallbackAttempt {
  attempt: number;
  /** Wall clock, ms: the spacing readings are measured on these. */
  startedAt: number;
  endedAt: number;
  /** HTTP status, or undefined when the try timed out or the connection failed. */
  status?: number;
  acknowledged: boolean;
  error?: string;
}

/** One callback and its tries. */
export interface WecomCallbackDelivery {
  /** 1-based number of the callback. */
  id: number;
  openKfId: string;
  token: string;
  /** The msgids this callback rings for. */
  msgids: string[];
  /** The decrypted event XML. */
  xml: string;
  attempts: WecomCallbackAttempt[];
  acknowledged: boolean;
}

/** What the sender needs of the platform. */
export interface WecomCallbackHost {
  corpId: string;
  /** The emulator's own callback Token and EncodingAESKey (targets default to them). */
  callback: { token: string; encodingAesKey: string };
  issueCallbackToken(openKfId: string): string;
  /** Emulator clock, ms (CreateTime). */
  now(): number;
}

interface PendingRing {
  token: string;
  msgids: string[];
}

/** The callback state of the WeCom platform (see the module comment). */
export class WecomCallbackSender {
  readonly #host: WecomCallbackHost;
  readonly #deliveries: WecomCallbackDelivery[] = [];
  readonly #pending = new Map<string, PendingRing>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #closing = new AbortController();
  #target: WecomCallbackTarget | undefined;

  constructor(host: WecomCallbackHost) {
    this.#host = host;
  }

  /** The target in force, if any. */
  target(): WecomCallbackTarget | undefined {
    return this.#target;
  }

  /**
   * Verifies `input.url` (GET with an encrypted echostr) and, when it answers the plaintext,
   * sends callbacks there from now on; EMULATOR_OPTIONS_INVALID otherwise (WeCom does not save an unverified URL).
   */
  async setTarget(
    input: unknown,
  ): Promise<{ target: Omit<WecomCallbackTarget, 'token' | 'encodingAesKey'>; verified: true }> {
    const parsed = WecomCallbackTargetSchema.safeParse(input);
    if (!parsed.success) {
      throw emulatorError(
        'EMULATOR_OPTIONS_INVALID',
        `callback-target needs {url, token?, encodingAesKey? (43 chars), deadlineMs?, tries?, retrySpacing?: back-to-back|fixed|deadline, retrySpacingMs?, coalesce?: per-message|coalesced, coalesceMs?}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    }
    const target: WecomCallbackTarget = {
      ...parsed.data,
      token: parsed.data.token ?? this.#host.callback.token,
      encodingAesKey: parsed.data.encodingAesKey ?? this.#host.callback.encodingAesKey,
    };
    const failure = await this.#verify(target);
    if (failure) {
      throw emulatorError(
        'EMULATOR_OPTIONS_INVALID',
        `callback-target: URL verification of ${target.url} failed: ${failure}`,
      );
    }
    this.#target = target;
    // The Token and EncodingAESKey are not echoed back (they may be a real app's).
    const { token: _token, encodingAesKey: _key, ...shown } = target;
    return { target: shown, verified: true };
  }

  /** Stops sending callbacks to any URL. */
  clearTarget(): void {
    this.#target = undefined;
  }

  /** Every callback sent so far, oldest first. */
  deliveries(): readonly WecomCallbackDelivery[] {
    return this.#deliveries;
  }

  /** Resolves when every callback rung so far has finished all its tries. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** Stops: pending bursts are dropped, pauses and tries in flight end at once. */
  close(): void {
    this.#closing.abort();
    this.#pending.clear();
  }

  /**
   * A customer message `msgid` was written to `openKfId`: returns the Token of the callback that
   * rings for it (with a target set, that callback is sent, or joins the account's pending burst).
   */
  ring(openKfId: string, msgid: string): string {
    const target = this.#target;
    if (!target || this.#closing.signal.aborted) return this.#host.issueCallbackToken(openKfId);
    if (target.coalesce === 'coalesced') {
      const pending = this.#pending.get(openKfId);
      if (pending) {
        pending.msgids.push(msgid);
        return pending.token;
      }
      const ring: PendingRing = { token: this.#host.issueCallbackToken(openKfId), msgids: [msgid] };
      this.#pending.set(openKfId, ring);
      this.#track(
        pause(target.coalesceMs, this.#closing.signal).then(async () => {
          this.#pending.delete(openKfId);
          if (!this.#closing.signal.aborted) await this.#send(target, openKfId, ring);
        }),
      );
      return ring.token;
    }
    const ring: PendingRing = { token: this.#host.issueCallbackToken(openKfId), msgids: [msgid] };
    this.#track(this.#send(target, openKfId, ring));
    return ring.token;
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #send(target: WecomCallbackTarget, openKfId: string, ring: PendingRing): Promise<void> {
    const corpId = this.#host.corpId;
    const createTime = Math.floor(this.#host.now() / 1000);
    const xml = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[${ring.token}]]></Token><OpenKfId><![CDATA[${openKfId}]]></OpenKfId></xml>`;
    const delivery: WecomCallbackDelivery = {
      id: this.#deliveries.length + 1,
      openKfId,
      token: ring.token,
      msgids: ring.msgids,
      xml,
      attempts: [],
      acknowledged: false,
    };
    this.#deliveries.push(delivery);
    const closing = this.#closing.signal;
    for (let attempt = 1; attempt <= target.tries && !delivery.acknowledged && !closing.aborted; attempt++) {
      const previous = delivery.attempts.at(-1);
      if (previous) await pause(retryPauseMs(target, previous, Date.now()), closing);
      if (closing.aborted) return;
      const startedAt = Date.now();
      const result = await this.#postOnce(target, xml);
      delivery.attempts.push({ attempt, startedAt, endedAt: Date.now(), ...result });
      delivery.acknowledged = result.acknowledged;
    }
  }

  /** One try: POST within the deadline; acknowledged on HTTP 200 (an empty body is fine, §5.3). */
  async #postOnce(
    target: WecomCallbackTarget,
    xml: string,
  ): Promise<Omit<WecomCallbackAttempt, 'attempt' | 'startedAt' | 'endedAt'>> {
    const corpId = this.#host.corpId;
    const encrypt = wechatEncrypt(target.encodingAesKey, xml, corpId);
    const url = signedUrl(target, encrypt);
    const body = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    try {
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/xml' },
        signal: AbortSignal.any([AbortSignal.timeout(target.deadlineMs), this.#closing.signal]),
      });
      await response.arrayBuffer();
      return { status: response.status, acknowledged: response.status === 200 };
    } catch (error) {
      return {
        acknowledged: false,
        error: (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message,
      };
    }
  }

  /** The URL verification GET; undefined when answered with the echostr's plaintext, else why not. */
  async #verify(target: WecomCallbackTarget): Promise<string | undefined> {
    const plain = `echo${randomBytes(8).toString('hex')}`;
    const encrypt = wechatEncrypt(target.encodingAesKey, plain, this.#host.corpId);
    const url = signedUrl(target, encrypt);
    url.searchParams.set('echostr', encrypt);
    try {
      // The doc gives the answer 1 s; the emulator is lenient with a loaded machine (and apart from the POST deadline knob).
      const response = await fetch(url, { signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS) });
      const text = await response.text();
      if (response.status !== 200) return `HTTP ${response.status}`;
      return text === plain ? undefined : 'the answer was not the decrypted echostr';
    } catch (error) {
      return (error as Error).name === 'TimeoutError' ? 'no answer within the deadline' : (error as Error).message;
    }
  }
}

/** `url` with `msg_signature = sha1(sort(token, timestamp, nonce, encrypt))`, a fresh timestamp and nonce. */
function signedUrl(target: WecomCallbackTarget, encrypt: string): URL {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(randomBytes(4).readUInt32BE());
  const url = new URL(target.url);
  url.searchParams.set('msg_signature', wechatSignature([target.token, timestamp, nonce, encrypt]));
  url.searchParams.set('timestamp', timestamp);
  url.searchParams.set('nonce', nonce);
  return url;
}
