import { Agent, request } from 'undici';
import { z } from 'zod';
import type { YoumiEventType } from './youmi-schemas.js';
import { formatYoumiTime } from './youmi-time.js';

/**
 * Delivers Youmi events to the URLs registered through `Public/registerCallbackUrl`,
 * `Public/subscribeEvent` and `v1/Public/SetCallbackUrl`, really POSTing them with
 * undici, retrying failures with exponential back-off until `close()`.
 *
 * v2 body: `{eventType, merchantId, appId (subscriptions only), msgTime, values}`; any
 * 2xx answer acknowledges it. v1 body: `{Type, MerchantId, MsgTime, Values}`; only
 * `{Result: true, ReturnCode: 200}` acknowledges it.
 */

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
}

const v1AcknowledgementSchema = z.object({ Result: z.literal(true), ReturnCode: z.literal(200) });

/** Registered callback targets and in-flight deliveries. */
export class YoumiEventDispatcher {
  private readonly callbacks = new Map<YoumiEventType | 'all', string>();
  private readonly subscriptions = new Map<string, { appId: string; types: Set<YoumiEventType> }>();
  private v1CallbackUrl: string | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private readonly agent = new Agent({ keepAliveTimeout: 1000, connections: 16 });
  private readonly attempts: YoumiDeliveryAttempt[] = [];
  private closed = false;

  constructor(private readonly options: YoumiEventDispatcherOptions) {}

  /** Registers the URL for one event type (or 'all'); replaces an earlier one. */
  registerCallback(type: YoumiEventType | 'all', url: string): void {
    this.callbacks.set(type, url);
  }

  /** Subscribes a URL to event types (empty = all); re-subscribing a URL replaces its types. */
  subscribe(url: string, appId: string, types: readonly YoumiEventType[]): void {
    this.subscriptions.set(url, { appId, types: new Set(types) });
  }

  /** Sets the v1 callback URL (every event, v1 format). */
  setV1Callback(url: string): void {
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
    const msgTime = formatYoumiTime(this.options.now());
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
          : { Type: eventType, MerchantId: this.options.merchantId, MsgTime: msgTime, Values: values };
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
    const typed = this.callbacks.get(eventType) ?? this.callbacks.get('all');
    if (typed) urls.set(`v2 ${typed}`, { url: typed, format: 'v2' });
    for (const [url, subscription] of this.subscriptions) {
      if (subscription.types.size === 0 || subscription.types.has(eventType)) {
        urls.set(`v2 ${url}`, { url, format: 'v2', appId: subscription.appId });
      }
    }
    if (this.v1CallbackUrl) urls.set(`v1 ${this.v1CallbackUrl}`, { url: this.v1CallbackUrl, format: 'v1' });
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
        headers: { 'content-type': 'application/json; charset=utf-8' },
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
