import { Agent, request } from 'undici';
import { z } from 'zod';
import type { YoumiEventType } from './youmi-schemas.js';
import { formatYoumiTime, type YoumiTimeFormat } from './youmi-time.js';

/**
 * Delivers Youmi events to the URLs registered through `Public/registerCallbackUrl`
 * (per product line `type` 100 / 200), `Public/subscribeEvent`, and the v1 callback URL the
 * merchant sets in the back office, really POSTing them with undici and retrying failures
 * with exponential back-off until `close()`.
 *
 * v1 (回调数据, platforms/youmi-api.md §3): `Content-type: text/json`, body `{Type (int 0–8),
 * MerchantId (the example's number), MsgTime (Unix seconds), Values}`; only
 * `{Result: true, ReturnCode: 200}` acknowledges it. `chat` goes out as Type 4 (get chat
 * messages) with the chat as Values and `fansInfoChange` as Type 2 (customer profile
 * changed); the Values tables were not seen, so their shapes are inferred.
 * v2 (事件发布格式说明, §2.9: only the event names were seen): an inferred body
 * `{eventType, merchantId, appId (subscriptions only), msgTime, values}`; any 2xx acknowledges it.
 */

/** v1 callback `Type` codes of the events the emulator sends in v1 format (§3). */
export const V1_CALLBACK_TYPES: Partial<Record<YoumiEventType, number>> = { fansInfoChange: 2, chat: 4 };

/** One delivery attempt, for tests and diagnostics. */
export interface YoumiDeliveryAttempt {
  url: string;
  eventType: YoumiEventType;
  /** 1 for the first try. */
  attempt: number;
  /** HTTP status, or undefined when the connection failed. */
  status: number | undefined;
  /** Whether the receiver acknowledged the event. */
  acknowledged: boolean;
}

/** Where an event goes and in which format. */
interface EventTarget {
  url: string;
  format: 'v2' | 'v1';
  appId?: string;
}

/** Settings of the dispatcher. */
export interface YoumiEventDispatcherOptions {
  merchantId: string;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  now: () => number;
  /** Format of v2 `msgTime` (the `timeFormat` reading). */
  timeFormat: () => YoumiTimeFormat;
}

const v1AcknowledgementSchema = z.object({ Result: z.literal(true), ReturnCode: z.literal(200) });

/** Registered callback targets and in-flight deliveries. */
export class YoumiEventDispatcher {
  private readonly callbacks = new Map<number, string>();
  private readonly subscriptions = new Map<string, { appId: string; types: Set<YoumiEventType> }>();
  private v1CallbackUrl: string | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private readonly agent = new Agent({ keepAliveTimeout: 1000, connections: 16 });
  private readonly attempts: YoumiDeliveryAttempt[] = [];
  private closed = false;

  constructor(private readonly options: YoumiEventDispatcherOptions) {}

  /** Registers the URL of a product line (`type` 100 企客宝, 200 金桥); every event goes there; replaces an earlier one. */
  registerCallback(type: number, url: string): void {
    this.callbacks.set(type, url);
  }

  /** Subscribes a URL to event types (empty = all); re-subscribing a URL replaces its types. */
  subscribe(url: string, appId: string, types: readonly YoumiEventType[]): void {
    this.subscriptions.set(url, { appId, types: new Set(types) });
  }

  /** Sets (or clears) the v1 callback URL, as the merchant does in the back office. */
  setV1Callback(url: string | undefined): void {
    this.v1CallbackUrl = url;
  }

  /** Number of targets an event of this type would be delivered to. */
  targetCount(eventType: YoumiEventType): number {
    return this.targets(eventType).length;
  }

  /** Every delivery attempt so far (bounded to the last 10 000). */
  deliveryAttempts(): YoumiDeliveryAttempt[] {
    return [...this.attempts];
  }

  /** Emits an event to every matching target; returns the number of targets. */
  emit(eventType: YoumiEventType, values: unknown): number {
    if (this.closed) return 0;
    const targets = this.targets(eventType);
    const now = this.options.now();
    const msgTime = formatYoumiTime(now, this.options.timeFormat());
    for (const target of targets) {
      const body =
        target.format === 'v2'
          ? {
              eventType,
              merchantId: this.options.merchantId,
              ...(target.appId ? { appId: target.appId } : {}),
              msgTime,
              values,
            }
          : {
              Type: V1_CALLBACK_TYPES[eventType],
              // The doc's example gives the number 9527 for this "string" field.
              MerchantId: Number(this.options.merchantId),
              MsgTime: Math.floor(now / 1000),
              Values: values,
            };
      const delivery = this.deliver(target, eventType, JSON.stringify(body)).finally(() => {
        this.pending.delete(delivery);
      });
      this.pending.add(delivery);
    }
    return targets.length;
  }

  /** Resolves when every delivery in flight (including retries) has finished. */
  async whenIdle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops retries and aborts deliveries in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
    await Promise.allSettled([...this.pending]);
    await this.agent.destroy();
  }

  private targets(eventType: YoumiEventType): EventTarget[] {
    const urls = new Map<string, EventTarget>();
    for (const url of this.callbacks.values()) urls.set(`v2 ${url}`, { url, format: 'v2' });
    for (const [url, subscription] of this.subscriptions) {
      if (subscription.types.size === 0 || subscription.types.has(eventType)) {
        urls.set(`v2 ${url}`, { url, format: 'v2', appId: subscription.appId });
      }
    }
    if (this.v1CallbackUrl && V1_CALLBACK_TYPES[eventType] !== undefined) {
      urls.set(`v1 ${this.v1CallbackUrl}`, { url: this.v1CallbackUrl, format: 'v1' });
    }
    return [...urls.values()];
  }

  private async deliver(target: EventTarget, eventType: YoumiEventType, body: string): Promise<void> {
    for (let attempt = 1; attempt <= this.options.retries + 1 && !this.closed; attempt++) {
      if (attempt > 1) await this.sleep(this.options.retryDelayMs * 2 ** (attempt - 2));
      if (this.closed) return;
      const outcome = await this.post(target, body);
      this.record({ url: target.url, eventType, attempt, ...outcome });
      if (outcome.acknowledged) return;
    }
  }

  private async post(
    target: EventTarget,
    body: string,
  ): Promise<{ status: number | undefined; acknowledged: boolean }> {
    try {
      const response = await request(target.url, {
        method: 'POST',
        body,
        headers: {
          'content-type': target.format === 'v1' ? 'text/json; charset=utf-8' : 'application/json; charset=utf-8',
        },
        dispatcher: this.agent,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      const text = await response.body.text();
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      if (!ok || target.format === 'v2') return { status: response.statusCode, acknowledged: ok };
      return { status: response.statusCode, acknowledged: v1AcknowledgementSchema.safeParse(safeJson(text)).success };
    } catch {
      return { status: undefined, acknowledged: false };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // close() aborts: wake up at once so the delivery loop ends.
      const onAbort = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.timers.add(timer);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private record(attempt: YoumiDeliveryAttempt): void {
    this.attempts.push(attempt);
    if (this.attempts.length > 10_000) this.attempts.splice(0, this.attempts.length - 10_000);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
